// splay (after Octane's Splay) for `compare`'s JVM peers: the same algorithm, keys and output as
// benches/src/workloads/splay.rs. The first run is the one timed (`seconds=`, in-process, like
// every peer, with the per-run latencies on `stat:` lines); a second run after it, with a
// warmed-up JIT, is reported on `stat: warm_s=`.
import java.util.Arrays;

public final class Splay {
    private static final int TREE_SIZE = 8_000;
    private static final int MODIFICATIONS = 80;
    private static final int PAYLOAD_DEPTH = 5;

    private static final class Node {
        final long key;
        Node left;
        Node right;
        Node payload;

        Node(long key) {
            this.key = key;
        }
    }

    private long keyState = 0x2545_F491_4F6C_DD1DL;
    private Node root;

    private long nextKey() {
        keyState ^= keyState << 13;
        keyState ^= keyState >>> 7;
        keyState ^= keyState << 17;
        return keyState >>> 11;
    }

    private static Node payloadTree(int depth, long tag) {
        Node node = new Node(tag);
        if (depth > 0) {
            node.left = payloadTree(depth - 1, tag);
            node.right = payloadTree(depth - 1, tag);
        }
        return node;
    }

    // Keys are below 2^53, so signed comparison is the unsigned one.
    private static Node splay(Node root, long key) {
        Node dummy = new Node(0);
        Node left = dummy;
        Node right = dummy;
        Node current = root;
        while (true) {
            if (key < current.key) {
                Node next = current.left;
                if (next == null) {
                    break;
                }
                if (key < next.key) {
                    current.left = next.right;
                    next.right = current;
                    current = next;
                    next = current.left;
                    if (next == null) {
                        break;
                    }
                }
                right.left = current;
                right = current;
                current = next;
            } else if (key > current.key) {
                Node next = current.right;
                if (next == null) {
                    break;
                }
                if (key > next.key) {
                    current.right = next.left;
                    next.left = current;
                    current = next;
                    next = current.right;
                    if (next == null) {
                        break;
                    }
                }
                left.right = current;
                left = current;
                current = next;
            } else {
                break;
            }
        }
        left.right = current.left;
        right.left = current.right;
        current.left = dummy.right;
        current.right = dummy.left;
        return current;
    }

    private void insert(Node node) {
        if (root == null) {
            root = node;
            return;
        }
        Node r = splay(root, node.key);
        if (node.key > r.key) {
            node.right = r.right;
            r.right = null;
            node.left = r;
        } else {
            node.left = r.left;
            r.left = null;
            node.right = r;
        }
        root = node;
    }

    private boolean contains(long key) {
        if (root == null) {
            return false;
        }
        root = splay(root, key);
        return root.key == key;
    }

    private void remove(long key) {
        Node r = splay(root, key);
        if (r.key != key) {
            throw new IllegalStateException("removing a key that is absent");
        }
        if (r.left == null) {
            root = r.right;
        } else {
            Node right = r.right;
            Node left = splay(r.left, key);
            left.right = right;
            root = left;
        }
    }

    private Long greatestLessThan(long key) {
        if (root == null) {
            return null;
        }
        root = splay(root, key);
        if (root.key < key) {
            return root.key;
        }
        Node current = root.left;
        if (current == null) {
            return null;
        }
        while (current.right != null) {
            current = current.right;
        }
        return current.key;
    }

    private long insertNew() {
        long key;
        do {
            key = nextKey();
        } while (contains(key));
        Node payload = payloadTree(PAYLOAD_DEPTH, key);
        Node node = new Node(key);
        node.payload = payload;
        insert(node);
        return key;
    }

    private void run() {
        for (int i = 0; i < MODIFICATIONS; i++) {
            long key = insertNew();
            Long greatest = greatestLessThan(key);
            remove(greatest != null ? greatest : key);
        }
    }

    private static long count(Node node) {
        return node == null ? 0 : 1 + count(node.left) + count(node.right);
    }

    /** One benchmark: setup and `runs` timed runs; returns the check line, fills `times`. */
    private static String benchmark(long runs, double[] times) {
        Splay tree = new Splay();
        for (int i = 0; i < TREE_SIZE; i++) {
            tree.insertNew();
        }
        for (int i = 0; i < runs; i++) {
            long start = System.nanoTime();
            tree.run();
            times[i] = (System.nanoTime() - start) / 1e9;
        }
        return "splay tree after " + runs + " runs\t nodes: " + count(tree.root)
            + "\t payload nodes: " + count(tree.root == null ? null : tree.root.payload);
    }

    public static void main(String[] args) {
        long runs = Long.parseLong(args[0]);
        double[] times = new double[(int) runs];
        long start = System.nanoTime();
        String line = benchmark(runs, times);
        double seconds = (System.nanoTime() - start) / 1e9;
        long warmStart = System.nanoTime();
        String again = benchmark(runs, new double[(int) runs]);
        double warm = (System.nanoTime() - warmStart) / 1e9;
        if (!line.equals(again)) {
            throw new IllegalStateException("the warm run printed something else");
        }
        Arrays.sort(times);
        double mean = Arrays.stream(times).sum() / Math.max(1, times.length);
        int rank = (int) Math.ceil(times.length * 0.99);
        double p99 = times.length == 0 ? 0 : times[Math.max(rank, 1) - 1];
        double max = times.length == 0 ? 0 : times[times.length - 1];
        System.out.println(line);
        System.out.println(String.format("stat: run_mean_ms=%.4f", mean * 1e3));
        System.out.println(String.format("stat: run_p99_ms=%.4f", p99 * 1e3));
        System.out.println(String.format("stat: run_max_ms=%.4f", max * 1e3));
        System.out.println("stat: warm_s=" + warm);
        System.out.println("seconds=" + seconds);
    }
}

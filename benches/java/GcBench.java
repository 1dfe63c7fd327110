// gcbench (after Boehm's GCBench) for `compare`'s JVM peers: the same schedule and output as
// benches/src/workloads/gcbench.rs. The first run is the one timed (`seconds=`, in-process, like
// every peer); a second run after it, with a warmed-up JIT, is reported on `stat: warm_s=`.
public final class GcBench {
    private static final int MIN_DEPTH = 4;
    private static final int ARRAY_LEN = 500_000;

    private static final class Node {
        Node left;
        Node right;

        Node() {}

        Node(Node left, Node right) {
            this.left = left;
            this.right = right;
        }
    }

    private static long nodes(int depth) {
        return (1L << (depth + 1)) - 1;
    }

    private static void populate(Node node, int depth) {
        if (depth > 0) {
            node.left = new Node();
            populate(node.left, depth - 1);
            node.right = new Node();
            populate(node.right, depth - 1);
        }
    }

    private static Node make(int depth) {
        return depth == 0 ? new Node() : new Node(make(depth - 1), make(depth - 1));
    }

    private static long count(Node node) {
        return node.left == null || node.right == null
            ? 1 : 1 + count(node.left) + count(node.right);
    }

    private static String run(int size) {
        StringBuilder out = new StringBuilder();
        int stretch = size + 2;
        out.append("stretch tree of depth ").append(stretch).append("\t check: ")
            .append(count(make(stretch))).append('\n');
        Node longLived = new Node();
        populate(longLived, size);
        double[] array = new double[ARRAY_LEN];
        for (int i = 1; i < ARRAY_LEN / 2; i++) {
            array[i] = 1.0 / i;
        }
        for (int depth = MIN_DEPTH; depth <= size; depth += 2) {
            long iterations = 2 * nodes(size + 2) / nodes(depth);
            long top = 0;
            long bottom = 0;
            for (long i = 0; i < iterations; i++) {
                Node root = new Node();
                populate(root, depth);
                top = count(root);
            }
            for (long i = 0; i < iterations; i++) {
                bottom = count(make(depth));
            }
            out.append(iterations).append("\t trees of depth ").append(depth)
                .append("\t top-down check: ").append(top)
                .append("\t bottom-up check: ").append(bottom).append('\n');
        }
        out.append("long lived tree of depth ").append(size).append("\t check: ")
            .append(count(longLived)).append('\n');
        out.append("array[1000] = ").append(array[1000]).append('\n');
        return out.toString();
    }

    public static void main(String[] args) {
        int size = Math.max(MIN_DEPTH, Integer.parseInt(args[0]));
        long start = System.nanoTime();
        String first = run(size);
        double seconds = (System.nanoTime() - start) / 1e9;
        long warmStart = System.nanoTime();
        String second = run(size);
        double warm = (System.nanoTime() - warmStart) / 1e9;
        if (!first.equals(second)) {
            throw new IllegalStateException("the warm run printed something else");
        }
        System.out.print(first);
        System.out.println("stat: warm_s=" + warm);
        System.out.println("seconds=" + seconds);
    }
}

// binary-trees for `compare`'s JVM peers: the same schedule and output as
// benches/src/workloads/binary_trees.rs (a stretch tree of depth max + 1, a long-lived tree of
// depth max, then 2^(max - d + 4) trees of each depth d = 4, 6, ..., max, built bottom-up and
// counted). Prints the output lines, each depth's time on a `stat: depth_D_s=` line, then
// `seconds=` (in-process time of the run).
public final class BinaryTrees {
    private static final int MIN_DEPTH = 4;

    private static final class Node {
        final Node left;
        final Node right;

        Node(Node left, Node right) {
            this.left = left;
            this.right = right;
        }
    }

    private static Node tree(int depth) {
        return depth == 0 ? new Node(null, null) : new Node(tree(depth - 1), tree(depth - 1));
    }

    private static long check(Node node) {
        return node.left == null ? 1 : 1 + check(node.left) + check(node.right);
    }

    public static void main(String[] args) {
        long start = System.nanoTime();
        int max = Math.max(MIN_DEPTH + 2, Integer.parseInt(args[0]));
        StringBuilder out = new StringBuilder();
        out.append("stretch tree of depth ").append(max + 1).append("\t check: ")
            .append(check(tree(max + 1))).append('\n');
        Node longLived = tree(max);
        StringBuilder stats = new StringBuilder();
        for (int depth = MIN_DEPTH; depth <= max; depth += 2) {
            long depthStart = System.nanoTime();
            long count = 1L << (max - depth + MIN_DEPTH);
            long sum = 0;
            for (long i = 0; i < count; i++) {
                sum += check(tree(depth));
            }
            out.append(count).append("\t trees of depth ").append(depth).append("\t check: ")
                .append(sum).append('\n');
            stats.append(String.format(java.util.Locale.ROOT, "stat: depth_%d_s=%.4f%n", depth,
                (System.nanoTime() - depthStart) / 1e9));
        }
        out.append("long lived tree of depth ").append(max).append("\t check: ")
            .append(check(longLived)).append('\n');
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.print(out);
        System.out.print(stats);
        System.out.println("seconds=" + seconds);
    }
}

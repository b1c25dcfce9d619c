namespace ProductionServing.Routing;

/// <summary>
/// An immutable radix tree (compressed trie) that finds the longest key that is a prefix of a path.
/// A lookup walks the path once, so its cost depends on the path's length, not on how many prefixes
/// there are (nginx builds a similar static tree of its prefix locations).
/// </summary>
internal sealed class PrefixTree<T> where T : class
{
    private readonly Node _root;

    public PrefixTree(IEnumerable<KeyValuePair<string, T>> entries)
    {
        var root = new BuildNode();
        foreach (var (key, value) in entries)
        {
            var node = root;
            foreach (var c in key)
            {
                if (!node.Children.TryGetValue(c, out var child))
                {
                    child = new BuildNode();
                    node.Children.Add(c, child);
                }

                node = child;
            }

            node.Value = value;
        }

        _root = Build(root, "");
    }

    /// <summary>The value of the longest key that <paramref name="path"/> starts with, or <see langword="null"/>.</summary>
    public T? FindLongestPrefix(ReadOnlySpan<char> path)
    {
        var node = _root;
        var best = node.Value;
        var position = 0;
        while (position < path.Length)
        {
            var index = node.FirstChars.AsSpan().BinarySearch(path[position]);
            if (index < 0)
            {
                break;
            }

            node = node.Children[index];
            if (!path[position..].StartsWith(node.Label, StringComparison.Ordinal))
            {
                break;
            }

            position += node.Label.Length;
            best = node.Value ?? best;
        }

        return best;
    }

    private static Node Compress(BuildNode node, char first)
    {
        // Follow a chain of single children without a value into one edge label.
        var label = first.ToString();
        while (node.Value is null && node.Children.Count == 1)
        {
            var (c, only) = node.Children.First();
            label += c;
            node = only;
        }

        return Build(node, label);
    }

    private static Node Build(BuildNode node, string label)
    {
        var keys = node.Children.Keys.ToArray();
        Array.Sort(keys);
        var children = new Node[keys.Length];
        for (var i = 0; i < keys.Length; i++)
        {
            children[i] = Compress(node.Children[keys[i]], keys[i]);
        }

        return new Node(label, node.Value, keys, children);
    }

    private sealed class BuildNode
    {
        public Dictionary<char, BuildNode> Children { get; } = [];

        public T? Value { get; set; }
    }

    private sealed class Node(string label, T? value, char[] firstChars, Node[] children)
    {
        public string Label { get; } = label;

        public T? Value { get; } = value;

        public char[] FirstChars { get; } = firstChars;

        public Node[] Children { get; } = children;
    }
}

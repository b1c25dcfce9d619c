namespace SpaWithApi;

/// <summary>The to-do list, in memory: the sample has no database, and starts from the same three items each run.</summary>
public sealed class TodoStore
{
    private readonly Lock _lock = new();
    private readonly SortedDictionary<int, Todo> _todos = new()
    {
        [1] = new Todo(1, "Read the ProductionServing README", Done: true),
        [2] = new Todo(2, "Serve the SPA and its API from one process", Done: false),
        [3] = new Todo(3, "Give fingerprinted assets a year of immutable caching", Done: false),
    };

    private int _lastId = 3;

    /// <summary>Every item, in the order they were added.</summary>
    public IReadOnlyList<Todo> All()
    {
        lock (_lock)
        {
            return [.. _todos.Values];
        }
    }

    /// <summary>The item with this number, or <see langword="null"/>.</summary>
    public Todo? Find(int id)
    {
        lock (_lock)
        {
            return _todos.GetValueOrDefault(id);
        }
    }

    /// <summary>Adds an item that is not done yet and returns it with its number.</summary>
    public Todo Add(string title)
    {
        lock (_lock)
        {
            var todo = new Todo(++_lastId, title, Done: false);
            _todos.Add(todo.Id, todo);
            return todo;
        }
    }
}

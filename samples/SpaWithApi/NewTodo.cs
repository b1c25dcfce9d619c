namespace SpaWithApi;

/// <summary>The body of <c>POST /api/todos</c>.</summary>
/// <param name="Title">What there is to do: required, at most <see cref="MaxTitleLength"/> characters.</param>
public sealed record NewTodo(string? Title)
{
    /// <summary>The longest title accepted.</summary>
    public const int MaxTitleLength = 200;

    /// <summary>What is wrong with the request, by field, as a validation problem lists it; empty when it is valid.</summary>
    public Dictionary<string, string[]> Problems()
    {
        var problems = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(Title))
        {
            problems["title"] = ["A title is required."];
        }
        else if (Title.Length > MaxTitleLength)
        {
            problems["title"] = [$"A title has at most {MaxTitleLength} characters."];
        }

        return problems;
    }
}

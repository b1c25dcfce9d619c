namespace SpaWithApi;

/// <summary>One item of the to-do list, as the API sends it.</summary>
/// <param name="Id">The item's number, assigned by the store.</param>
/// <param name="Title">What there is to do.</param>
/// <param name="Done">Whether it is done.</param>
public sealed record Todo(int Id, string Title, bool Done);

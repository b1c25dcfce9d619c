using ProductionServing;
using SpaWithApi;

// A single-page app and its API in one process. appsettings.json decides, nginx-style, what serves
// each path: the SPA's files (static, with TryFiles falling back to index.html), its fingerprinted
// assets (a year of immutable caching, compressed), and /api/ (this app, through the "api" pool).
var builder = WebApplication.CreateBuilder(args);
builder.Services.AddProductionServing(builder.Configuration.GetSection("ProductionServing"));
builder.Services.AddSingleton<TodoStore>();
builder.Services.AddProblemDetails();

var app = builder.Build();
app.UseProductionServing();

// Only /api/ reaches the app: every other path is served from wwwroot by ProductionServing.
var api = app.MapGroup("/api");
api.MapGet("/todos", (TodoStore store) => store.All());
api.MapGet("/todos/{id:int}", (int id, TodoStore store) =>
    store.Find(id) is { } todo ? Results.Ok(todo) : Results.Problem(statusCode: StatusCodes.Status404NotFound, title: $"There is no to-do {id}."));
api.MapPost("/todos", (NewTodo input, TodoStore store) =>
{
    if (input.Problems() is { Count: > 0 } problems)
    {
        return Results.ValidationProblem(problems);
    }

    var todo = store.Add(input.Title!.Trim());
    return Results.Created($"/api/todos/{todo.Id}", todo);
});

// An API path nothing maps gets the API's own 404 (problem+json), never the SPA's index.html: the
// /api/ location sends every path under it to the app, whose fallback answers here.
api.MapFallback("{**path}", () => Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "There is no such API endpoint."));

app.Run();

/// <summary>The sample's entry point, visible to WebApplicationFactory in the tests.</summary>
public partial class Program;

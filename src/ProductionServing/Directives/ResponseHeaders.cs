using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace ProductionServing.Directives;

/// <summary>
/// A location's <c>Headers</c> (nginx <c>add_header … always</c>): set on every response of the location as it
/// starts, its error responses and 304s included; a value of <c>""</c> removes the header.
/// </summary>
/// <remarks>
/// The headers of the location that finally serves the request apply (after an internal redirect, the
/// target's), as nginx takes <c>add_header</c> from the location the request ends in. They are set from the
/// response's <c>OnStarting</c>, registered once per request: whatever the handler, the app or an error answer
/// wrote, streamed or not, these come last. A header whose values are all constant is a prebuilt
/// <see cref="StringValues"/>, so a request costs no allocation for them.
/// </remarks>
internal sealed class ResponseHeaders
{
    private static readonly Func<object, Task> ApplyCallback = Apply;

    private readonly string[] _names;
    private readonly StringValues[] _constants;
    private readonly VariableTemplate?[] _templates;

    private ResponseHeaders(string[] names, StringValues[] constants, VariableTemplate?[] templates, bool isConstant)
    {
        _names = names;
        _constants = constants;
        _templates = templates;
        IsConstant = isConstant;
    }

    /// <summary>Whether every value is constant: the request's path and captures are not needed when the response starts.</summary>
    public bool IsConstant { get; }

    /// <summary>The highest capture (<c>$N</c>) a value uses, or 0.</summary>
    public int HighestCapture { get; private init; }

    /// <summary>Compiles headers the validator accepted.</summary>
    /// <param name="headers">The configured names and values.</param>
    /// <param name="captures">How many groups the location's regex has.</param>
    /// <returns>The compiled headers, or null when there are none.</returns>
    public static ResponseHeaders? Compile(IDictionary<string, string?> headers, int captures)
    {
        if (headers.Count == 0)
        {
            return null;
        }

        var names = new string[headers.Count];
        var constants = new StringValues[headers.Count];
        var templates = new VariableTemplate?[headers.Count];
        var isConstant = true;
        var highest = 0;
        var i = 0;
        foreach (var (name, value) in headers)
        {
            names[i] = name;
            if (!string.IsNullOrEmpty(value))
            {
                if (!VariableTemplate.TryParse(value, captures, out var template, out var problem))
                {
                    throw new InvalidOperationException(problem);
                }

                if (template.IsConstant)
                {
                    constants[i] = template.Text;
                }
                else
                {
                    templates[i] = template;
                    isConstant = false;
                    highest = Math.Max(highest, template.HighestCapture);
                }
            }

            i++;
        }

        return new ResponseHeaders(names, constants, templates, isConstant) { HighestCapture = highest };
    }

    /// <summary>
    /// Makes the response of <paramref name="request"/> get the headers of the location that finally serves it.
    /// Called once per request, before its directives and handler can start the response.
    /// </summary>
    public static void Hook(in ServingRequest request) => request.Context.Response.OnStarting(ApplyCallback, request.Context);

    /// <summary>
    /// Keeps what this location's values are expanded against (its path and captures), when they need more than
    /// the request: the response may start after an internal redirect changed both.
    /// </summary>
    public void Remember(in ServingRequest request)
    {
        if (!IsConstant)
        {
            request.Context.Features.Set(new Scope(request.Variables));
        }
    }

    private static Task Apply(object state)
    {
        var context = (HttpContext)state;
        if (context.Features.Get<ServingLocation>()?.Directives?.Headers is { } headers)
        {
            headers.Set(context);
        }

        return Task.CompletedTask;
    }

    private void Set(HttpContext context)
    {
        var response = context.Response.Headers;
        // Dispatch remembered the scope of every location whose values are not constant.
        var scope = IsConstant ? default : context.Features.Get<Scope>()!.Variables;
        var names = _names;
        for (var i = 0; i < names.Length; i++)
        {
            if (_templates[i] is { } template)
            {
                response[names[i]] = template.Expand(scope);
            }
            else if (_constants[i].Count != 0)
            {
                response[names[i]] = _constants[i];
            }
            else
            {
                response.Remove(names[i]);
            }
        }
    }

    /// <summary>The variables of the location whose headers apply, for values that are not constant.</summary>
    private sealed class Scope(VariableScope variables)
    {
        public VariableScope Variables { get; } = variables;
    }
}

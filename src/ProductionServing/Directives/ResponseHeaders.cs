using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace ProductionServing.Directives;

/// <summary>
/// A location's <c>Headers</c> (nginx <c>add_header … always</c>): set on every response of the location as it
/// starts, its error responses and 304s included; a value of <c>""</c> removes the header. A value replaces the
/// response's own, except for the list headers <c>Vary</c>, <c>Set-Cookie</c> and <c>Link</c>, which it joins.
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
    private readonly bool[] _appends;

    private ResponseHeaders(string[] names, StringValues[] constants, VariableTemplate?[] templates, bool isConstant)
    {
        _names = names;
        _appends = Array.ConvertAll(names, Appends);
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
                var template = VariableTemplate.Parse(value, captures);
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
            StringValues value;
            if (_templates[i] is { } template)
            {
                var expanded = template.ExpandHeader(scope);
                if (expanded.Length == 0)
                {
                    // nginx's add_header adds nothing for a value that is empty once expanded.
                    continue;
                }

                value = expanded;
            }
            else if ((value = _constants[i]).Count == 0)
            {
                response.Remove(names[i]);
                continue;
            }

            if (_appends[i] && response.TryGetValue(names[i], out var existing) && existing.Count != 0)
            {
                // A pipeline run again on the same request (UseExceptionHandler, status code pages' re-execution)
                // registers this callback again: the second run must not add the value twice.
                if (!Has(existing, value))
                {
                    response[names[i]] = StringValues.Concat(existing, value);
                }
            }
            else
            {
                response[names[i]] = value;
            }
        }
    }

    /// <summary>
    /// Whether a value for <paramref name="name"/> joins the response's own instead of replacing them, as nginx's
    /// <c>add_header</c> adds a line: a list whose members each matter. Replacing <c>Vary</c> would drop the
    /// <c>Accept-Encoding</c> that <c>Compress</c> or a precompressed file put there, and a shared cache would then
    /// hand compressed bytes to a client that cannot read them (RFC 9110 §12.5.5); <c>Set-Cookie</c> (RFC 6265 §3)
    /// and <c>Link</c> (RFC 8288 §3) carry one cookie or link per value.
    /// </summary>
    private static bool Appends(string name) =>
        name.Equals(HeaderNames.Vary, StringComparison.OrdinalIgnoreCase)
        || name.Equals(HeaderNames.SetCookie, StringComparison.OrdinalIgnoreCase)
        || name.Equals(HeaderNames.Link, StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether <paramref name="existing"/> holds <paramref name="value"/> already.</summary>
    private static bool Has(StringValues existing, string? value)
    {
        foreach (var item in existing)
        {
            if (string.Equals(item, value, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The variables of the location whose headers apply, for values that are not constant.</summary>
    private sealed class Scope(VariableScope variables)
    {
        public VariableScope Variables { get; } = variables;
    }
}

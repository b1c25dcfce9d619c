using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ProductionServing.Pools;

/// <summary>
/// <c>Request.Form</c> on a dedicated worker. The synchronous <c>Request.Form</c> is the framework's
/// <c>ReadFormAsync().GetAwaiter().GetResult()</c>, whose own awaits sit above the body pipe: with the
/// worker's <see cref="SynchronizationContext"/> they would queue behind the worker that waits for them
/// (see <see cref="ContextFreeStream"/>). The form is read without it. The framework's feature is made
/// on first use, as the framework does, with the app's <see cref="FormOptions"/>.
/// </summary>
internal sealed class ContextFreeForm(HttpRequest request, IFormFeature? existing) : IFormFeature
{
    private IFormFeature? _inner = existing;

    public IFormFeature? Existing { get; } = existing;

    /// <summary>The framework's feature this view made, if the app used the form.</summary>
    public IFormFeature? Made => Existing is null ? _inner : null;

    public bool HasFormContentType => Inner.HasFormContentType;

    public IFormCollection? Form
    {
        get => Inner.Form;
        set => Inner.Form = value;
    }

    private IFormFeature Inner => _inner ??= new FormFeature(request,
        request.HttpContext.RequestServices?.GetService<IOptions<FormOptions>>()?.Value ?? new FormOptions());

    public IFormCollection ReadForm()
    {
        using var _ = new NoSynchronizationContext();
        return Inner.ReadForm();
    }

    public Task<IFormCollection> ReadFormAsync(CancellationToken cancellationToken)
    {
        using var _ = new NoSynchronizationContext();
        return Inner.ReadFormAsync(cancellationToken);
    }
}

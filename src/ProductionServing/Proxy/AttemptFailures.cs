using System.Net.Http;

namespace ProductionServing.Proxy;

/// <summary>Classification of the exceptions of <see cref="HttpMessageInvoker.SendAsync"/>.</summary>
internal static class AttemptFailures
{
    public static AttemptFailure Classify(Exception exception, bool readTimedOut, bool clientGone)
    {
        if (clientGone)
        {
            return AttemptFailure.Client;
        }

        for (var inner = exception; inner is not null; inner = inner.InnerException)
        {
            if (inner is TimeoutException)
            {
                // SocketsHttpHandler reports ConnectTimeout as a cancellation wrapping a TimeoutException.
                return AttemptFailure.ConnectTimedOut;
            }
        }

        if (exception is HttpRequestException { HttpRequestError: HttpRequestError.Unknown } && !HasNetworkCause(exception))
        {
            return AttemptFailure.Unsendable;
        }

        if (exception is OperationCanceledException)
        {
            return readTimedOut ? AttemptFailure.TimedOut : AttemptFailure.Reset;
        }

        return exception is HttpRequestException { HttpRequestError: var error } ? error switch
        {
            HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError => AttemptFailure.ConnectFailed,
            HttpRequestError.InvalidResponse => AttemptFailure.InvalidResponse,
            _ => AttemptFailure.Reset,
        } : AttemptFailure.Reset;
    }

    private static bool HasNetworkCause(Exception exception)
    {
        for (var inner = exception.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is IOException or System.Net.Sockets.SocketException)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>What the client is answered when the last attempt failed this way.</summary>
    public static ServingError ErrorOf(AttemptFailure failure) => failure switch
    {
        AttemptFailure.ConnectFailed => ServingError.UpstreamConnectFailed,
        AttemptFailure.ConnectTimedOut => ServingError.UpstreamConnectTimeout,
        AttemptFailure.TimedOut => ServingError.UpstreamTimeout,
        AttemptFailure.InvalidResponse => ServingError.UpstreamInvalidResponse,
        AttemptFailure.Unsendable => ServingError.UpstreamRequestUnsendable,
        _ => ServingError.UpstreamReset,
    };

    /// <summary>Whether the request was certainly not sent, so even a non-idempotent one may go elsewhere.</summary>
    public static bool NothingSent(AttemptFailure failure) =>
        failure is AttemptFailure.ConnectFailed or AttemptFailure.ConnectTimedOut;
}

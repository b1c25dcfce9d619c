namespace ProductionServing.Soak;

/// <summary>
/// How a request ended. <see cref="Shed"/> and <see cref="Aborted"/> are what the load asks for (the
/// overloaded pool's 503s, the client's own cancellations); every <c>Error*</c> fails the soak.
/// </summary>
internal enum Outcome
{
    Ok,
    Shed,
    Aborted,
    ErrorConnect,
    ErrorTimeout,
    ErrorStatus,
    ErrorOther,
}

namespace ProductionServing.Fuzz;

/// <summary>A property of the code under test did not hold; thrown out of a target so afl records a crash.</summary>
public sealed class PropertyViolationException : Exception
{
    public PropertyViolationException()
    {
    }

    public PropertyViolationException(string message)
        : base(message)
    {
    }

    public PropertyViolationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Throws, naming the property and the input, unless <paramref name="holds"/>.</summary>
    public static void Check(bool holds, string property, string input, string? result = null)
    {
        if (!holds)
        {
            throw new PropertyViolationException(property + ": input " + FuzzTarget.Escape(input) + (result is null ? "" : ", result " + FuzzTarget.Escape(result)));
        }
    }
}

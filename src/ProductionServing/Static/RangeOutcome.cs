namespace ProductionServing.Static;

/// <summary>What a static response does with a request's <c>Range</c> header (RFC 9110 §14.2).</summary>
internal enum RangeOutcome
{
    /// <summary>
    /// Ignore the header and send the whole representation with 200: no header, another range unit, a
    /// syntactically invalid range set, too many ranges or overlapping ranges.
    /// </summary>
    Full,

    /// <summary>Send 206 with the satisfiable ranges (one as a plain body, several as <c>multipart/byteranges</c>).</summary>
    Partial,

    /// <summary>Every range lies outside the representation: send 416 with <c>Content-Range: bytes */LEN</c> (RFC 9110 §15.5.17).</summary>
    Unsatisfiable,
}

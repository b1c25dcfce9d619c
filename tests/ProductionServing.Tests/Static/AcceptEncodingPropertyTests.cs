using CsCheck;
using ProductionServing.Static;

namespace ProductionServing.Tests.Static;

/// <summary>
/// Accept-Encoding under random and adversarial input: choosing never throws, and never picks a coding
/// that is not there to send.
/// </summary>
public sealed class AcceptEncodingPropertyTests
{
    private static readonly string[] Pieces =
    [
        "br", "gzip", "deflate", "identity", "*", "x-gzip", "BR", "GZip", ";q=", ";q=0", ";q=1", ";q=0.5", ";q=1.000", ";q=1.0001",
        ";q=-1", ";q=abc", ";q=", ";", ",", ", ", " ", "\t", "=", "q", "0", ".", "\0", "é",
    ];

    [Fact]
    public void Choosing_NeverThrows_AndPicksOnlyWhatIsAvailable()
    {
        var header = Gen.OneOf(
            Gen.Int[0, Pieces.Length - 1].Select(i => Pieces[i]).Array[0, 12].Select(string.Concat),
            Gen.String);

        Gen.Select(header.Array[0, 3], Gen.Bool, Gen.Bool).Sample((values, brotli, gzip) =>
        {
            var choice = AcceptEncoding.Choose(values, brotli, gzip);

            Assert.True(choice == ContentCoding.Identity || choice == ContentCoding.Brotli && brotli || choice == ContentCoding.Gzip && gzip,
                $"chose {choice} with br {brotli}, gzip {gzip} for [{string.Join(" | ", values)}]");
        }, iter: 10_000);
    }
}

using System.Text;

namespace ProductionServing.Import.NginxConfig;

/// <summary>
/// Reads nginx's configuration grammar into directives, the way nginx's own reader
/// (<c>ngx_conf_read_token</c>) splits it: words separated by spaces, tabs and line ends; a directive ends with
/// <c>;</c> or opens a block with <c>{</c>; <c>#</c> starts a comment only where a word could start; a word in
/// <c>"…"</c> or <c>'…'</c> may hold spaces and must be followed by a space, <c>;</c> or <c>{</c>; a backslash
/// takes the next character as it is; <c>${name}</c> keeps its braces. Escapes are resolved as nginx resolves
/// them: <c>\"</c>, <c>\'</c> and <c>\\</c> give the character, <c>\t</c>, <c>\r</c> and <c>\n</c> a tab, carriage
/// return and line feed, and any other backslash stays (so <c>\d</c> reaches a regex as written).
/// </summary>
internal sealed class NginxConfigReader
{
    private readonly string _text;
    private readonly string _file;
    private int _index;
    private int _line = 1;
    private int _column = 1;
    private int _depth;

    /// <summary>How deep blocks may nest: far beyond any configuration (http, server, location, if), and short of the stack's end.</summary>
    private const int MaxDepth = 64;

    private NginxConfigReader(string text, string file)
    {
        _text = text;
        _file = file;
    }

    /// <summary>The directives of <paramref name="text"/>, the contents of <paramref name="file"/>.</summary>
    /// <exception cref="NginxConfigException">The text is not well-formed; the message names the file, line and column.</exception>
    public static IReadOnlyList<NginxDirective> Read(string text, string file)
    {
        ArgumentNullException.ThrowIfNull(text);
        return new NginxConfigReader(text, file).ReadBlock(opened: null);
    }

    /// <summary>Directives up to the <c>}</c> that closes the block opened at <paramref name="opened"/>, or to the end of the text.</summary>
    private List<NginxDirective> ReadBlock(SourcePosition? opened)
    {
        var directives = new List<NginxDirective>();
        var words = new List<string>();
        SourcePosition? start = null;
        while (true)
        {
            SkipSpaceAndComments();
            var here = Here();
            if (_index == _text.Length)
            {
                if (words.Count != 0)
                {
                    throw new NginxConfigException(here, "unexpected end of file, expecting \";\" or \"}\"");
                }

                if (opened is { } open)
                {
                    throw new NginxConfigException(here, $"unexpected end of file, expecting \"}}\" to close the block opened at line {open.Line}");
                }

                return directives;
            }

            switch (_text[_index])
            {
                case ';':
                    Advance();
                    directives.Add(Directive(words, block: null, start, here, ';'));
                    words.Clear();
                    start = null;
                    break;
                case '{':
                    Advance();
                    if (++_depth > MaxDepth)
                    {
                        throw new NginxConfigException(here, $"blocks nest deeper than {MaxDepth} levels");
                    }

                    var block = ReadBlock(here);
                    _depth--;
                    directives.Add(Directive(words, block, start, here, '{'));
                    words.Clear();
                    start = null;
                    break;
                case '}':
                    if (words.Count != 0 || opened is null)
                    {
                        throw new NginxConfigException(here, "unexpected \"}\"");
                    }

                    Advance();
                    return directives;
                default:
                    start ??= here;
                    words.Add(ReadWord());
                    break;
            }
        }
    }

    private static NginxDirective Directive(List<string> words, List<NginxDirective>? block, SourcePosition? start, SourcePosition at, char end)
    {
        if (words.Count == 0 || start is not { } position)
        {
            throw new NginxConfigException(at, $"unexpected \"{end}\"");
        }

        return new NginxDirective(words[0], words.GetRange(1, words.Count - 1), block, position);
    }

    /// <summary>One word, quoted or not, with its escapes resolved.</summary>
    private string ReadWord()
    {
        var word = new StringBuilder();
        var quote = _text[_index] is '"' or '\'' ? _text[_index] : '\0';
        if (quote != '\0')
        {
            var opened = Here();
            Advance();
            while (true)
            {
                if (_index == _text.Length)
                {
                    throw new NginxConfigException(opened, $"unexpected end of file in the {quote}…{quote} that starts here");
                }

                var ch = _text[_index];
                if (ch == quote)
                {
                    Advance();
                    break;
                }

                if (ch == '\\' && _index + 1 < _text.Length)
                {
                    Escape(word);
                    continue;
                }

                word.Append(ch);
                Advance();
            }

            // nginx wants a separator after a closing quote: "a"b is an error, not a word (")" ends an if condition).
            if (_index < _text.Length && !IsSpace(_text[_index]) && _text[_index] is not (';' or '{' or ')'))
            {
                throw new NginxConfigException(Here(), $"unexpected \"{_text[_index]}\" after a quoted word");
            }

            return word.ToString();
        }

        var variable = false;
        while (_index < _text.Length)
        {
            var ch = _text[_index];
            if (ch == '{' && variable)
            {
                // ${name}: the brace belongs to the variable, and so does the one that closes it (a } inside a
                // word is part of the word; only one that starts a word closes a block).
                word.Append(ch);
                Advance();
                variable = false;
                continue;
            }

            if (IsSpace(ch) || ch is ';' or '{')
            {
                break;
            }

            if (ch == '\\' && _index + 1 < _text.Length)
            {
                Escape(word);
                variable = false;
                continue;
            }

            variable = ch == '$';
            word.Append(ch);
            Advance();
        }

        return word.ToString();
    }

    /// <summary>A backslash and the character after it, as nginx copies them into the word.</summary>
    private void Escape(StringBuilder word)
    {
        var next = _text[_index + 1];
        switch (next)
        {
            case '"' or '\'' or '\\':
                word.Append(next);
                break;
            case 't':
                word.Append('\t');
                break;
            case 'r':
                word.Append('\r');
                break;
            case 'n':
                word.Append('\n');
                break;
            default:
                word.Append('\\').Append(next);
                break;
        }

        Advance();
        Advance();
    }

    private void SkipSpaceAndComments()
    {
        while (_index < _text.Length)
        {
            var ch = _text[_index];
            if (ch == '#')
            {
                while (_index < _text.Length && _text[_index] != '\n')
                {
                    Advance();
                }
            }
            else if (IsSpace(ch))
            {
                Advance();
            }
            else
            {
                return;
            }
        }
    }

    private static bool IsSpace(char ch) => ch is ' ' or '\t' or '\r' or '\n';

    private SourcePosition Here() => new(_file, _line, _column);

    private void Advance()
    {
        if (_text[_index] == '\n')
        {
            _line++;
            _column = 1;
        }
        else
        {
            _column++;
        }

        _index++;
    }
}

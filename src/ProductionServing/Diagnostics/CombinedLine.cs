namespace ProductionServing.Diagnostics;

/// <summary>
/// The <c>combined</c> line: nginx's predefined format (ngx_http_log_module),
/// <c>$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"</c>,
/// then <c>rt=$request_time ua="$upstream_addr" us="$upstream_status" urt="$upstream_response_time" loc="&lt;location&gt;"</c>
/// (the fields nginx users add for a proxy), then ProductionServing's own <c>qt=&lt;queue time&gt; et=&lt;error.type&gt;</c>.
/// Every variable is escaped as nginx escapes it and an empty one is <c>-</c>, so tools that read nginx's
/// logs (GoAccess, fail2ban, awk scripts) read these.
/// </summary>
internal static class CombinedLine
{
    /// <summary>The months of <c>$time_local</c>, three letters each, in English whatever the culture (strftime's <c>%b</c> in the C locale).</summary>
    private static ReadOnlySpan<byte> Months => "JanFebMarAprMayJunJulAugSepOctNovDec"u8;

    public static void Write(LineBuffer line, in AccessLogEntry entry)
    {
        WriteAddress(line, entry);

        // $remote_user: there is no basic authentication.
        line.Write(" - - ["u8);
        WriteTimeLocal(line, entry.Now);
        line.Write("] \""u8);

        // $request, the request line: each part escaped, the spaces between them as they are.
        line.WriteEscaped(entry.Method);
        line.Write((byte)' ');
        line.WriteEscaped(entry.Target);
        line.Write((byte)' ');
        line.WriteEscaped(entry.Protocol);
        line.Write("\" "u8);
        line.WriteNumber(entry.StatusCode);
        line.Write((byte)' ');
        line.WriteNumber(entry.BodyBytesSent);
        line.Write(" \""u8);
        line.WriteEscaped(entry.Referer);
        line.Write("\" \""u8);
        line.WriteEscaped(entry.UserAgent);
        line.Write("\" rt="u8);
        line.WriteSeconds((long)entry.RequestTime.TotalMilliseconds);
        WriteUpstreams(line, entry);
        line.Write(" loc=\""u8);
        line.WriteEscaped(entry.Location?.Match);
        line.Write("\" qt="u8);
        var queued = entry.Record.QueueWaitTicks;
        if (queued < 0)
        {
            line.Write((byte)'-');
        }
        else
        {
            line.WriteSeconds(entry.Milliseconds(queued));
        }

        line.Write(" et="u8);
        line.WriteAscii(entry.ErrorType ?? "-");
    }

    private static void WriteAddress(LineBuffer line, in AccessLogEntry entry)
    {
        if (entry.RemoteAddress is not { } address)
        {
            line.Write((byte)'-');
            return;
        }

        // The longest IPv6 text, with a scope id, is well under 64 bytes.
        if (address.TryFormat(line.GetSpan(64), out var written))
        {
            line.Advance(written);
        }
    }

    /// <summary><c>$time_local</c>, the Common Log Format's time: <c>05/Dec/2026:08:01:02 +0000</c>.</summary>
    private static void WriteTimeLocal(LineBuffer line, DateTimeOffset now)
    {
        line.WriteTwoDigits(now.Day);
        line.Write((byte)'/');
        line.Write(Months.Slice((now.Month - 1) * 3, 3));
        line.Write((byte)'/');
        line.WriteNumber(now.Year);
        line.Write((byte)':');
        line.WriteTwoDigits(now.Hour);
        line.Write((byte)':');
        line.WriteTwoDigits(now.Minute);
        line.Write((byte)':');
        line.WriteTwoDigits(now.Second);
        line.Write((byte)' ');
        var offset = (int)now.Offset.TotalMinutes;
        line.Write(offset < 0 ? (byte)'-' : (byte)'+');
        offset = Math.Abs(offset);
        line.WriteTwoDigits(offset / 60);
        line.WriteTwoDigits(offset % 60);
    }

    /// <summary>
    /// <c>$upstream_addr</c>, <c>$upstream_status</c> and <c>$upstream_response_time</c>: one entry per
    /// server tried, oldest first, separated by <c>", "</c> as nginx separates them
    /// (<c>ua="10.0.0.1:80, 10.0.0.2:80" us="502, 200" urt="0.001, 0.004"</c>).
    /// </summary>
    private static void WriteUpstreams(LineBuffer line, in AccessLogEntry entry)
    {
        var attempts = entry.Record.Attempts;
        if (attempts.IsEmpty)
        {
            line.Write(" ua=\"-\" us=\"-\" urt=\"-\""u8);
            return;
        }

        line.Write(" ua=\""u8);
        for (var i = 0; i < attempts.Length; i++)
        {
            if (i > 0)
            {
                line.Write(", "u8);
            }

            line.WriteEscaped(AccessLogEntry.UpstreamAddress(attempts[i].Server));
        }

        line.Write("\" us=\""u8);
        for (var i = 0; i < attempts.Length; i++)
        {
            if (i > 0)
            {
                line.Write(", "u8);
            }

            var status = AccessLogEntry.UpstreamStatus(attempts[i]);
            if (status == 0)
            {
                line.Write((byte)'-');
            }
            else
            {
                line.WriteNumber(status);
            }
        }

        line.Write("\" urt=\""u8);
        for (var i = 0; i < attempts.Length; i++)
        {
            if (i > 0)
            {
                line.Write(", "u8);
            }

            if (attempts[i].TotalTicks < 0)
            {
                line.Write((byte)'-');
            }
            else
            {
                line.WriteSeconds(entry.Milliseconds(attempts[i].TotalTicks));
            }
        }

        line.Write((byte)'"');
    }
}

using System;
using System.IO;

namespace FunctionalBackprop.Tests;

/// <summary>A stream that fails once a given number of bytes has been written, or when flushed.</summary>
internal sealed class FailingStream(Stream inner, long failAfter, bool failOnFlush = false) : Stream
{
    private long written;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => inner.Length;

    public override long Position { get => inner.Position; set => throw new NotSupportedException(); }

    public override void Flush()
    {
        if (failOnFlush)
        {
            throw new IOException("Simulated failure while flushing.");
        }

        inner.Flush();
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        var allowed = (int)Math.Max(0, Math.Min(buffer.Length, failAfter - written));
        inner.Write(buffer[..allowed]);
        written += allowed;
        if (allowed < buffer.Length)
        {
            throw new IOException($"Simulated failure after {written} bytes.");
        }
    }
}

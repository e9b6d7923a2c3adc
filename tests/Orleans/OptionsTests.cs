using System;
using Xunit;

namespace FunctionalBackprop.Orleans.Tests;

/// <summary>Options are checked when they are set, in the caller's terms.</summary>
public sealed class OptionsTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void ATimeoutMustBePositive(int milliseconds)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new DistributedTrainingOptions { CallTimeout = TimeSpan.FromMilliseconds(milliseconds) });
        Assert.Equal(nameof(DistributedTrainingOptions.CallTimeout), e.ParamName);
    }

    [Fact]
    public void TheTimeoutIsConfigurableAndBoundedByDefault()
    {
        Assert.Equal(TimeSpan.FromSeconds(30), new DistributedTrainingOptions().CallTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(250), new DistributedTrainingOptions { CallTimeout = TimeSpan.FromMilliseconds(250) }.CallTimeout);
        Assert.Throws<ArgumentOutOfRangeException>(() => new DistributedTrainingOptions { CallTimeout = TimeSpan.MaxValue });
    }

    [Theory]
    [InlineData(4095)]
    [InlineData((64 << 20) + 1)]
    public void AChunkStaysWellBelowOrleansMessageLimit(int bytes)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new DistributedTrainingOptions { ChunkBytes = bytes });
        Assert.Equal(nameof(DistributedTrainingOptions.ChunkBytes), e.ParamName);
    }

    [Fact]
    public void ARunNeedsAWorker()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new DistributedTrainingOptions { Workers = 0 });
        Assert.Equal(nameof(DistributedTrainingOptions.Workers), e.ParamName);
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(-1L)]
    [InlineData(1L << 40)]
    public void ASilosUploadLimitLiesBetweenOneByteAndTheLargestArray(long bytes)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new ShardWorkerOptions { MaxUploadBytes = bytes });
        Assert.Equal(nameof(ShardWorkerOptions.MaxUploadBytes), e.ParamName);
        Assert.Equal(1L << 30, new ShardWorkerOptions().MaxUploadBytes);
    }

    [Fact]
    public void AnIdleTimeoutMustBePositive()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new ShardWorkerOptions { IdleTimeout = TimeSpan.Zero });
        Assert.Equal(nameof(ShardWorkerOptions.IdleTimeout), e.ParamName);
    }
}

namespace FunctionalBackprop.Orleans.Coordinator;

/// <summary>
/// Where a run starts (a checkpoint's epoch and step, or 0 and 0) and how many batches make an
/// epoch: enough to tell from the number of batches computed so far the step and epoch of the next.
/// </summary>
internal sealed record RunPosition(int StartEpoch, long StartStep, int BatchesPerEpoch)
{
    /// <summary>Optimizer steps completed once <paramref name="batches"/> batches of this run have been stepped on.</summary>
    public long Step(long batches) => StartStep + batches;

    /// <summary>
    /// The epoch (from 1) of the batch after <paramref name="batches"/> batches of this run, which
    /// starts StartStep − StartEpoch·B batches into epoch StartEpoch + 1 (a checkpoint may stand
    /// inside an epoch).
    /// </summary>
    public int Epoch(long batches) => StartEpoch + (int)((StartStep - (long)StartEpoch * BatchesPerEpoch + batches) / BatchesPerEpoch) + 1;
}

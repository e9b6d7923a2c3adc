namespace FunctionalBackprop.Orleans;

/// <summary>What happened to a worker.</summary>
public enum WorkerEventKind
{
    /// <summary>The worker holds the training set and is ready to compute: at the start, and again after it was lost, its silo restarted, or it moved to a silo without workers.</summary>
    Started,

    /// <summary>The worker stopped answering (its silo stopped, or it timed out), or sent a share that another worker contradicted; its shards go to the others, and it starts again on another silo.</summary>
    Lost,
}

/// <summary>A change in a run's workers.</summary>
/// <param name="Kind">What happened.</param>
/// <param name="Worker">The worker's number, from 0.</param>
/// <param name="Silo">The silo it ran on (Orleans' address, such as 127.0.0.1:11111@123456789).</param>
/// <param name="Step">Optimizer steps completed when it happened (a resumed run continues the count).</param>
/// <param name="Reason">Why a worker was lost; null for a start.</param>
public sealed record WorkerEvent(WorkerEventKind Kind, int Worker, string Silo, long Step, string? Reason);

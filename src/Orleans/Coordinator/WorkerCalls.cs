using System;
using System.Threading.Tasks;
using Orleans.Runtime;

namespace FunctionalBackprop.Orleans.Coordinator;

/// <summary>A call to a worker, bounded in time, and the failures that mean the worker is gone.</summary>
internal static class WorkerCalls
{
    /// <summary>The call's result, or <see cref="WorkerLostException"/> when it failed as a lost machine fails or took longer than <paramref name="timeout"/>.</summary>
    public static async Task<TResult> Bounded<TResult>(Func<Task<TResult>> call, TimeSpan timeout, string what)
    {
        try
        {
            // Made inside the try: a client that was disposed throws as the call is made.
            return await call().WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (TimeoutException e)
        {
            throw new WorkerLostException($"{what}: no answer within {timeout.TotalSeconds:0.###} s", unreachable: true, e);
        }
        catch (Exception e) when (e is OrleansException or OperationCanceledException or ObjectDisposedException)
        {
            // Orleans' own failures: the silo is unreachable or shutting down, the message was
            // rejected, the connection dropped. (A worker's own exception, say from bad data or a
            // wrong token, is no machine failure and passes through unchanged.)
            // (Orleans puts the inner exception's stack in some messages: the first line says what failed.)
            throw new WorkerLostException($"{what}: {e.GetType().Name}: {e.Message.Split('\n')[0].Trim()}", unreachable: true, e);
        }
    }
}

/// <summary>
/// A worker that cannot go on: its silo did not answer (<see cref="Unreachable"/>), or it
/// answered that it no longer holds its run's data (its silo restarted).
/// </summary>
internal sealed class WorkerLostException(string message, bool unreachable = false, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>True when the silo did not answer, false when it answered without the worker's state.</summary>
    public bool Unreachable { get; } = unreachable;
}

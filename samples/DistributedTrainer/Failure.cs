using System;
using System.IO;
using System.Linq;
using FunctionalBackprop.Orleans;
using StackExchange.Redis;

namespace FunctionalBackprop.Samples;

/// <summary>The coordinator could not reach any silo of the cluster in time.</summary>
internal sealed class ClusterUnreachableException(string message, Exception inner) : Exception(message, inner);

/// <summary>What a failed run says in one line, naming the option to look at; null for a failure nobody expects (a bug), which keeps its stack trace.</summary>
internal static class Failure
{
    public static string? Of(Exception e, Cluster cluster)
    {
        // Orleans wraps what failed while a host started: look through it.
        var causes = Causes(e).ToArray();
        if (causes.OfType<RedisConnectionException>().FirstOrDefault() is { } redis)
        {
            return $"cannot reach Redis at {cluster.Redis} (--redis): {redis.Message.Split(". ")[0].Trim().TrimEnd('.')}.";
        }

        if (causes.OfType<System.Net.Sockets.SocketException>().FirstOrDefault() is { SocketErrorCode: System.Net.Sockets.SocketError.AddressAlreadyInUse } inUse)
        {
            return $"a port of this silo is taken ({inUse.Message}): give other ports with --silo-port and --gateway-port, or another N";
        }

        if (causes.OfType<System.Net.Sockets.SocketException>().FirstOrDefault() is { SocketErrorCode: System.Net.Sockets.SocketError.AddressNotAvailable } notHere)
        {
            return $"this machine has no address {cluster.Address} to listen on (--address): {notHere.Message}";
        }

        return e switch
        {
            ClusterUnreachableException or NoLiveWorkerException or TrainingDivergedException => e.Message,
            ArgumentException or FormatException or IOException or InvalidDataException or UnauthorizedAccessException => e.Message,
            global::Orleans.Runtime.OrleansException => $"the cluster failed: {e.Message}",
            _ => null,
        };
    }

    private static System.Collections.Generic.IEnumerable<Exception> Causes(Exception e)
    {
        for (Exception? c = e; c is not null; c = c.InnerException)
        {
            yield return c;
            if (c is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions.SelectMany(Causes))
                {
                    yield return inner;
                }
            }
        }
    }
}

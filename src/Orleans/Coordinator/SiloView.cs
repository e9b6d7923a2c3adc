using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using Orleans;
using Orleans.Runtime;

namespace FunctionalBackprop.Orleans.Coordinator;

/// <summary>
/// A live silo as the coordinator reaches it: its address (as events name it) and the address
/// its workers service is called at: the silo's gateway when it has one, so that the client sends
/// the call straight there.
/// </summary>
internal sealed record SiloEntry(string Silo, SiloAddress Route);

/// <summary>
/// The cluster's live silos as this client last saw them, asked again every second in the
/// background (each time bounded by the call timeout), less the suspects: those whose workers
/// failed to answer, left alone until the cluster's membership no longer lists them (it declares a
/// killed or frozen silo dead within a minute or so) or for at most <see cref="SuspectFor"/>. A
/// silo restarted on the same ports is another silo (another generation), and no suspect.
/// </summary>
internal sealed class SiloView : IDisposable
{
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(1);

    /// <summary>The longest a silo whose workers failed is left alone while the membership still lists it.</summary>
    public static readonly TimeSpan SuspectFor = TimeSpan.FromMinutes(2);

    private readonly IClusterClient client;
    private readonly TimeSpan timeout;
    private readonly ConcurrentDictionary<string, long> suspects = new();
    private readonly CancellationTokenSource stop = new();
    private IReadOnlyList<SiloEntry> live;

    private SiloView(IClusterClient client, TimeSpan timeout, IReadOnlyList<SiloEntry> first)
    {
        this.client = client;
        this.timeout = timeout;
        live = first;
        _ = Task.Run(Watch);
    }

    /// <summary>
    /// The live silos now, in address order, asked again every quarter second while the cluster
    /// fails to answer (a silo that just died may be asked to forward the question); then
    /// <see cref="WorkerLostException"/> once <paramref name="timeout"/> has passed.
    /// </summary>
    public static async Task<IReadOnlyList<SiloEntry>> ListAsync(IClusterClient client, TimeSpan timeout)
    {
        var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (true)
        {
            var left = TimeSpan.FromMilliseconds(Math.Max(1, deadline - Environment.TickCount64));
            try
            {
                var hosts = await WorkerCalls.Bounded(() => client.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: true), left, "listing the cluster's silos").ConfigureAwait(false);
                return hosts
                    .Select(h => new SiloEntry(h.SiloAddress.ToParsableString(), h.ProxyPort > 0 ? SiloAddress.New(new IPEndPoint(h.SiloAddress.Endpoint.Address, h.ProxyPort), 0) : h.SiloAddress))
                    .OrderBy(s => s.Silo, StringComparer.Ordinal)
                    .ToArray();
            }
            catch (WorkerLostException) when (Environment.TickCount64 + 250 < deadline)
            {
                await Task.Delay(250).ConfigureAwait(false);
            }
        }
    }

    /// <summary>A view that starts with <paramref name="first"/> and keeps itself up to date until disposed.</summary>
    public static SiloView Watching(IClusterClient client, TimeSpan timeout, IReadOnlyList<SiloEntry> first) => new(client, timeout, first);

    /// <summary>The live silos that are not suspects, in address order.</summary>
    public IReadOnlyList<SiloEntry> Usable
    {
        get
        {
            var now = Environment.TickCount64;
            return Volatile.Read(ref live).Where(s => !(suspects.TryGetValue(s.Silo, out var until) && now < until)).ToArray();
        }
    }

    /// <summary>Leaves <paramref name="silo"/> alone: a call to one of its workers just failed.</summary>
    public void Suspect(SiloEntry silo) => suspects[silo.Silo] = Environment.TickCount64 + (long)SuspectFor.TotalMilliseconds;

    private async Task Watch()
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(Period, stop.Token).ConfigureAwait(false);
                var now = await ListAsync(client, timeout).ConfigureAwait(false);
                Volatile.Write(ref live, now);
                foreach (var gone in suspects.Keys.Except(now.Select(s => s.Silo)))
                {
                    suspects.TryRemove(gone, out _);
                }
            }
            catch (Exception)
            {
                // Whatever went wrong (no answer, a client shutting down), the last list stands
                // until the cluster answers again.
            }
        }
    }

    public void Dispose() => stop.Cancel();
}

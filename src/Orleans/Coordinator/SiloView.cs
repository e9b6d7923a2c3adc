using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using FunctionalBackprop.Orleans.Workers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Configuration;
using Orleans.Messaging;
using Orleans.Runtime;

namespace FunctionalBackprop.Orleans.Coordinator;

/// <summary>
/// A live silo as the coordinator reaches it: its address (as events name it) and the address
/// its workers service is called at: the silo's gateway when this client has known that gateway
/// for a full refresh of its gateway list (the client then sends the call straight there), else
/// the silo itself (a gateway forwards the call).
/// </summary>
internal sealed record SiloEntry(string Silo, SiloAddress Route);

/// <summary>
/// The cluster's live silos as this client last saw them, asked again every second in the
/// background (the membership table, through whichever silo answers first), less the suspects:
/// those whose workers failed to answer, left alone until the membership no longer lists them (it
/// declares a killed or frozen silo dead within a minute or so) or for at most
/// <see cref="SuspectFor"/>. A silo restarted on the same ports is another silo (another
/// generation), and no suspect.
/// </summary>
internal sealed class SiloView : IDisposable
{
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(1);

    /// <summary>The longest a silo whose workers failed is left alone while the membership still lists it.</summary>
    public static readonly TimeSpan SuspectFor = TimeSpan.FromMinutes(2);

    private readonly IClusterClient client;
    private readonly TimeSpan timeout;
    private readonly ConcurrentDictionary<string, long> suspects = new();
    private readonly Dictionary<SiloAddress, long> gatewaysSeen = new();
    private readonly CancellationTokenSource stop = new();
    private IReadOnlyList<SiloEntry> live = Array.Empty<SiloEntry>();
    private long refreshed;

    private SiloView(IClusterClient client, TimeSpan timeout)
    {
        this.client = client;
        this.timeout = timeout;
    }

    /// <summary>A view of the cluster's live silos now; <see cref="WorkerLostException"/> when the cluster does not answer within the timeout.</summary>
    public static async Task<SiloView> StartAsync(IClusterClient client, TimeSpan timeout)
    {
        var view = new SiloView(client, timeout);
        await view.RefreshAsync(Environment.TickCount64 + (long)timeout.TotalMilliseconds).ConfigureAwait(false);
        _ = Task.Run(view.Watch);
        return view;
    }

    /// <summary>The live silos that are not suspects, in address order.</summary>
    public IReadOnlyList<SiloEntry> Usable
    {
        get
        {
            var now = Environment.TickCount64;
            return Volatile.Read(ref live).Where(s => !(suspects.TryGetValue(s.Silo, out var until) && now < until)).ToArray();
        }
    }

    /// <summary>Where <paramref name="silo"/>'s workers service is called now; null when the silo is no longer live.</summary>
    public SiloAddress? RouteOf(string silo) =>
        Volatile.Read(ref live).FirstOrDefault(s => s.Silo == silo)?.Route;

    /// <summary>How many silos are live.</summary>
    public int Count => Volatile.Read(ref live).Count;

    /// <summary>When the view last heard from the cluster (<see cref="Environment.TickCount64"/>).</summary>
    public long Refreshed => Volatile.Read(ref refreshed);

    /// <summary>
    /// Leaves <paramref name="silo"/> alone: a call to one of its workers just failed. When the
    /// call went through another silo's gateway, that silo may be the one at fault: then only for
    /// one call timeout.
    /// </summary>
    public void Suspect(SiloEntry silo) =>
        suspects[silo.Silo] = Environment.TickCount64 + (long)(silo.Route.Generation == 0 ? SuspectFor : timeout).TotalMilliseconds;

    /// <summary>
    /// Asks the membership table for the active silos, through Orleans' management grain and
    /// through each silo's workers service at once (a silo that just died may hold up one way, not
    /// all), again every quarter second until one answers or <paramref name="deadline"/> passes.
    /// </summary>
    private async Task RefreshAsync(long deadline)
    {
        while (true)
        {
            var left = TimeSpan.FromMilliseconds(Math.Max(1, deadline - Environment.TickCount64));
            try
            {
                var asks = Volatile.Read(ref live).Select(s => (Func<Task<MembershipEntry[]>>)(() => client.GetGrain<IShardWorkers>(ShardWorkers.At(s.Route)).SilosAsync()))
                    .Prepend(() => client.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: true))
                    .Select(ask => WorkerCalls.Bounded(ask, left, "listing the cluster's silos"))
                    .ToList();
                var hosts = await FirstAnswer(asks).ConfigureAwait(false);
                var routes = await Routes().ConfigureAwait(false);
                Volatile.Write(ref live, hosts.Select(h => new SiloEntry(h.SiloAddress.ToParsableString(), Route(h, routes))).OrderBy(s => s.Silo, StringComparer.Ordinal).ToArray());
                Volatile.Write(ref refreshed, Environment.TickCount64);
                foreach (var gone in suspects.Keys.Except(hosts.Select(h => h.SiloAddress.ToParsableString())))
                {
                    suspects.TryRemove(gone, out _);
                }

                return;
            }
            catch (WorkerLostException) when (Environment.TickCount64 + 250 < deadline)
            {
                await Task.Delay(250).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The first answer of those asked; the last failure when none answers.</summary>
    private static async Task<MembershipEntry[]> FirstAnswer(List<Task<MembershipEntry[]>> asks)
    {
        while (true)
        {
            var done = await Task.WhenAny(asks).ConfigureAwait(false);
            if (done.IsCompletedSuccessfully || asks.Count == 1)
            {
                return await done.ConfigureAwait(false);
            }

            asks.Remove(done);
        }
    }

    /// <summary>The gateways this client has known for a full refresh of its gateway list (so its connections know them too).</summary>
    private async Task<HashSet<SiloAddress>> Routes()
    {
        var provider = client.ServiceProvider.GetService<IGatewayListProvider>();
        if (provider is null)
        {
            return new HashSet<SiloAddress>();
        }

        var now = Environment.TickCount64;
        var settle = (long)client.ServiceProvider.GetRequiredService<IOptions<GatewayOptions>>().Value.GatewayListRefreshPeriod.TotalMilliseconds + 1000;
        var listed = (await provider.GetGateways().ConfigureAwait(false)).Select(u => u.ToGatewayAddress()).OfType<SiloAddress>().Select(a => SiloAddress.New(a.Endpoint, 0)).ToHashSet();
        lock (gatewaysSeen)
        {
            foreach (var gateway in listed)
            {
                gatewaysSeen.TryAdd(gateway, now);
            }

            return listed.Where(g => now - gatewaysSeen[g] >= settle).ToHashSet();
        }
    }

    private static SiloAddress Route(MembershipEntry host, HashSet<SiloAddress> gateways)
    {
        var gateway = host.ProxyPort > 0 ? SiloAddress.New(new IPEndPoint(host.SiloAddress.Endpoint.Address, host.ProxyPort), 0) : null;
        return gateway is not null && gateways.Contains(gateway) ? gateway : host.SiloAddress;
    }

    private async Task Watch()
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(Period, stop.Token).ConfigureAwait(false);
                await RefreshAsync(Environment.TickCount64 + (long)timeout.TotalMilliseconds).ConfigureAwait(false);
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

using System;
using System.Linq;
using System.Net;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Hosting;
using FunctionalBackprop.Orleans;

namespace FunctionalBackprop.Samples;

/// <summary>
/// Where the cluster's members find each other: on loopback (silo 0 is the primary silo at the
/// first silo port; silo N listens on ports base + N), or through a membership table in Redis,
/// each silo advertising <see cref="Address"/>.
/// </summary>
internal sealed record Cluster(string? Redis, IPAddress Address, int SiloPort, int GatewayPort, string ClusterId)
{
    public const string ServiceId = "FunctionalBackprop";

    /// <summary>A host for silo <paramref name="n"/>, which hosts shard workers.</summary>
    public IHost Silo(int n)
    {
        var builder = Quiet();
        builder.UseOrleans(silo =>
        {
            if (Redis is null)
            {
                silo.UseLocalhostClustering(SiloPort + n, GatewayPort + n, new IPEndPoint(IPAddress.Loopback, SiloPort), ServiceId, ClusterId);
            }
            else
            {
                silo.UseRedisClustering(Redis);
                // Advertise the address other machines reach this one at; listen on every address then.
                silo.ConfigureEndpoints(Address, SiloPort + n, GatewayPort + n, listenOnAnyHostAddress: !IPAddress.IsLoopback(Address));
                silo.Configure<ClusterOptions>(o =>
                {
                    o.ClusterId = ClusterId;
                    o.ServiceId = ServiceId;
                });
            }

            silo.AddShardWorkers();
        });
        return builder.Build();
    }

    /// <summary>A host for the coordinator's client: on loopback it knows the gateways of silos 0 … silos − 1.</summary>
    public IHost Client(int silos)
    {
        var builder = Quiet();
        builder.UseOrleansClient(client =>
        {
            if (Redis is null)
            {
                client.UseLocalhostClustering(Enumerable.Range(GatewayPort, silos).ToArray(), ServiceId, ClusterId);
            }
            else
            {
                client.UseRedisClustering(Redis);
                client.Configure<ClusterOptions>(o =>
                {
                    o.ClusterId = ClusterId;
                    o.ServiceId = ServiceId;
                });
            }

            client.AddShardWorkerClient();
        });
        return builder.Build();
    }

    /// <summary>A host builder that logs warnings and errors, not Orleans' start-up notes (server GC, a slow first check while the machine is busy).</summary>
    private static HostApplicationBuilder Quiet()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("Orleans.Runtime.Silo", LogLevel.Error);
        builder.Logging.AddFilter("Orleans.Runtime.Watchdog", LogLevel.Error);
        return builder;
    }

    /// <summary>Where the cluster is, for a log line.</summary>
    public override string ToString() =>
        Redis is null ? $"loopback (silo ports {SiloPort}+N, gateways {GatewayPort}+N)" : $"membership in Redis at {Redis} (cluster {ClusterId})";
}

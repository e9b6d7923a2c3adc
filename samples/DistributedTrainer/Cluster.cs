using System;
using System.Linq;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;
using FunctionalBackprop.Orleans;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Configuration;
using Orleans.Hosting;
using StackExchange.Redis;

namespace FunctionalBackprop.Samples;

/// <summary>
/// Where the cluster's members find each other: on loopback (silo 0 is the primary silo at the
/// first silo port; silo N listens on ports base + N), or through a membership table in Redis,
/// each silo listening on and advertising <see cref="Address"/> only. With a
/// <see cref="Certificate"/>, every connection is mutual TLS with it.
/// </summary>
internal sealed record Cluster(string? Redis, IPAddress Address, int SiloPort, int GatewayPort, string ClusterId, X509Certificate2? Certificate)
{
    public const string ServiceId = "FunctionalBackprop";

    /// <summary>A host for silo <paramref name="n"/>, which hosts shard workers that accept uploads of at most <paramref name="maxUploadBytes"/>.</summary>
    public IHost Silo(int n, long maxUploadBytes)
    {
        var builder = Quiet(LogLevel.Warning);
        builder.UseOrleans(silo =>
        {
            if (Redis is null)
            {
                silo.UseLocalhostClustering(SiloPort + n, GatewayPort + n, new IPEndPoint(IPAddress.Loopback, SiloPort), ServiceId, ClusterId);
            }
            else
            {
                silo.UseRedisClustering(options => options.ConfigurationOptions = RedisOptions(TimeSpan.FromSeconds(5)));
                // Listen on the address the others reach this silo at, and on no other.
                silo.ConfigureEndpoints(Address, SiloPort + n, GatewayPort + n, listenOnAnyHostAddress: false);
                silo.Configure<ClusterOptions>(o =>
                {
                    o.ClusterId = ClusterId;
                    o.ServiceId = ServiceId;
                });
            }

            if (Certificate is not null)
            {
                silo.UseClusterCertificate(Certificate);
            }

            silo.AddShardWorkers(options => options.MaxUploadBytes = maxUploadBytes);
        });
        return builder.Build();
    }

    /// <summary>
    /// A host for the coordinator's client: on loopback it knows the gateways of silos 0 … silos − 1.
    /// Starting it tries to reach a gateway until <paramref name="connectTimeout"/> has passed.
    /// </summary>
    public IHost Client(int silos, TimeSpan connectTimeout)
    {
        var builder = Quiet(LogLevel.Error);
        builder.UseOrleansClient(client =>
        {
            if (Redis is null)
            {
                client.UseLocalhostClustering(Enumerable.Range(GatewayPort, silos).ToArray(), ServiceId, ClusterId);
            }
            else
            {
                // Half the connect time for Redis, so that Redis down is told as such.
                client.UseRedisClustering(options => options.ConfigurationOptions = RedisOptions(TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(5).Ticks, connectTimeout.Ticks / 2))));
                client.Configure<ClusterOptions>(o =>
                {
                    o.ClusterId = ClusterId;
                    o.ServiceId = ServiceId;
                });
                // A silo that joins during a run is a gateway the coordinator calls its workers through within seconds.
                client.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = TimeSpan.FromSeconds(5));
            }

            if (Certificate is not null)
            {
                client.UseClusterCertificate(Certificate);
            }

            client.AddShardWorkerClient();
            client.UseConnectionRetryFilter(new RetryUntil(DateTime.UtcNow + connectTimeout).ShouldRetry);
        });
        return builder.Build();
    }

    /// <summary>Redis as --redis gives it, trying to connect for at most <paramref name="connect"/>, once.</summary>
    private ConfigurationOptions RedisOptions(TimeSpan connect)
    {
        var options = ConfigurationOptions.Parse(Redis!);
        options.ConnectTimeout = (int)connect.TotalMilliseconds;
        options.ConnectRetry = 1;
        return options;
    }

    /// <summary>Tries to reach a gateway again, once a second, until the deadline (the clock starts when the host is built).</summary>
    private sealed class RetryUntil(DateTime deadline)
    {
        public async Task<bool> ShouldRetry(Exception exception, CancellationToken cancellationToken)
        {
            // Redis that cannot be reached is an error of its own, said at once.
            if (exception is RedisConnectionException || DateTime.UtcNow + TimeSpan.FromSeconds(1) > deadline)
            {
                return false;
            }

            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            return true;
        }
    }

    /// <summary>
    /// Whether the hosts log yet: not while they start (a start that fails is reported by the
    /// program in one line, not by each of Orleans' parts with its stack trace); from then on,
    /// warnings and errors.
    /// </summary>
    public LogGate Logs { get; } = new();

    /// <summary>A host builder that logs (once <see cref="Logs"/> opens) Orleans' messages from <paramref name="orleans"/> up, not its start-up notes (server GC, a slow first check while the machine is busy).</summary>
    private HostApplicationBuilder Quiet(LogLevel orleans)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter((_, level) => Logs.Open && level >= LogLevel.Warning);
        builder.Logging.AddFilter("Orleans", level => Logs.Open && level >= orleans);
        builder.Logging.AddFilter("Orleans.Runtime.Silo", level => Logs.Open && level >= LogLevel.Error);
        builder.Logging.AddFilter("Orleans.Runtime.Watchdog", level => Logs.Open && level >= LogLevel.Error);
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting", LogLevel.None);
        return builder;
    }

    /// <summary>Where the cluster is, for a log line.</summary>
    public override string ToString() =>
        (Redis is null ? $"loopback (silo ports {SiloPort}+N, gateways {GatewayPort}+N)" : $"membership in Redis at {Redis} (cluster {ClusterId}), listening on {Address}")
        + (Certificate is null ? ", no TLS" : ", mutual TLS");
}

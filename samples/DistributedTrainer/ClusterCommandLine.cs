using System;
using System.CommandLine;
using System.Net;

namespace FunctionalBackprop.Samples;

/// <summary>
/// The options of the cluster's commands, each checked while parsing: where the members meet
/// (every command), what a silo is (<c>silo</c>), how the coordinator waits (<c>train</c>), and
/// the certificate to make (<c>certificate</c>).
/// </summary>
internal sealed class ClusterCommandLine
{
    public Option<string?> Redis { get; } = new("--redis") { Description = "host:port of a Redis server holding the cluster's membership table (for real machines); without it, silos and coordinator meet on loopback." };

    public Option<string> Address { get; } = new("--address") { Description = "With --redis, the address this silo listens on and advertises to the others (this machine's address on the network); a silo refuses an address beyond loopback without --certificate unless --insecure.", DefaultValueFactory = _ => "127.0.0.1" };

    public Option<int> SiloPort { get; } = new("--silo-port") { Description = "Silo N listens for silos on this port + N (silo 0's is the primary silo on loopback).", DefaultValueFactory = _ => 11111 };

    public Option<int> GatewayPort { get; } = new("--gateway-port") { Description = "Silo N listens for clients on this port + N.", DefaultValueFactory = _ => 30000 };

    public Option<string> ClusterId { get; } = new("--cluster-id") { Description = "The cluster's name: silos and coordinator must give the same.", DefaultValueFactory = _ => "functionalbackprop" };

    public Option<string?> Certificate { get; } = new("--certificate") { Description = "The cluster's certificate (a PFX file with its private key; make one with the certificate command): every silo and coordinator gives the same, and then every connection is mutual TLS, open only to holders of it. Its password, if any, in FUNCTIONALBACKPROP_CERTIFICATE_PASSWORD." };

    public Option<bool> Insecure { get; } = new("--insecure") { Description = "Let a silo listen beyond loopback without TLS: anyone who reaches its ports joins the cluster and reads what crosses it. Only on a network you trust." };

    public Argument<int> Number { get; } = new("N") { Description = "The silo's number, from 0." };

    public Option<int> MaxUploadMegabytes { get; } = new("--max-upload-mb") { Description = "The most MiB one worker of this silo accepts for a run's network and training set; a larger run is refused at its start.", DefaultValueFactory = _ => 1024 };

    public Option<int> Workers { get; } = new("--workers") { Description = "Workers that compute each mini-batch's shards, spread over the silos; also the shard count unless --shards is given.", DefaultValueFactory = _ => 3 };

    public Option<int?> Silos { get; } = new("--silos") { Description = "On loopback, how many silos run (their gateways are tried): by default as many as workers." };

    public Option<double> Timeout { get; } = new("--timeout") { Description = "Seconds to wait for any one answer of a worker before its shards go to another.", DefaultValueFactory = _ => 30 };

    public Option<double> ConnectTimeout { get; } = new("--connect-timeout") { Description = "Seconds to keep trying to reach a silo of the cluster before giving up.", DefaultValueFactory = _ => 15 };

    public Argument<string> Path { get; } = new("PATH") { Description = "Where to write the new certificate's PFX file (never over an existing file)." };

    public Option<int> Days { get; } = new("--days") { Description = "Days the certificate is valid.", DefaultValueFactory = _ => 365 };

    /// <summary>The highest silo number: silo N listens on the ports + N.</summary>
    public const int MaxSilo = 999;

    public ClusterCommandLine()
    {
        CommandLine.AtLeast(Workers, 1, "at least 1");
        CommandLine.AtLeast(MaxUploadMegabytes, 1, "at least 1");
        CommandLine.AtLeast(Days, 1, "at least 1");
        CommandLine.Require(Silos, value => value is null or >= 1, value => $"--silos must be at least 1, got {value}.");
        Seconds(Timeout);
        Seconds(ConnectTimeout);
        Port(SiloPort);
        Port(GatewayPort);
        CommandLine.Require(Address, value => IPAddress.TryParse(value, out _), value => $"--address must be an IP address (such as 10.0.0.11), got '{value}'.");
        Number.Validators.Add(result =>
        {
            try
            {
                var n = result.GetValueOrDefault<int>();
                if (n is < 0 or > MaxSilo)
                {
                    result.AddError($"The silo's number N must lie between 0 and {MaxSilo}, got {n}.");
                }
            }
            catch (InvalidOperationException)
            {
                // Not a number: the parser says so, naming N.
            }
        });
    }

    private static void Seconds(Option<double> option) =>
        CommandLine.Require(option, value => value > 0 && value <= int.MaxValue / 1000.0, value => $"{option.Name} must be a positive number of seconds (at most {int.MaxValue / 1000}), got {value}.");

    private static void Port(Option<int> option) =>
        CommandLine.Require(option, value => value is >= 1 and <= 65535 - MaxSilo, value => $"{option.Name} must be a port between 1 and {65535 - MaxSilo} (silo N adds N), got {value}.");
}

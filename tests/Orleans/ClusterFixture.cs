using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using Orleans;
using Orleans.TestingHost;
using Xunit;

namespace FunctionalBackprop.Orleans.Tests;

/// <summary>
/// Orleans' in-process test cluster: three silos that host shard workers, and a client, started
/// once for the tests of the collection (file logging off). Tests that stop a silo start another
/// in its place before they end, so that every test finds three.
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public const int Silos = 3;

    private InProcessTestCluster? cluster;

    public InProcessTestCluster Cluster => cluster ?? throw new InvalidOperationException("The cluster has not started.");

    public IClusterClient Client => Cluster.Client;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(Silos);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSilo((_, silo) => silo.AddShardWorkers());
        builder.ConfigureClient(client => client.AddShardWorkerClient());
        cluster = builder.Build();
        await cluster.DeployAsync();
    }

    /// <summary>Starts silos until the cluster has three live ones again.</summary>
    public async Task RestoreAsync()
    {
        while (Cluster.GetActiveSilos().Count() < Silos)
        {
            await Cluster.StartAdditionalSiloAsync();
        }

        await Cluster.WaitForLivenessToStabilizeAsync();
    }

    /// <summary>Kills the client without letting it clean up, as a crashed coordinator leaves it.</summary>
    public void KillClient()
    {
        try
        {
            Cluster.KillClientAsync().GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
            // The kill stops the client's host with a cancelled token: that is the point.
        }
    }

    /// <summary>Starts a new client if the last one was killed.</summary>
    public async Task EnsureClientAsync()
    {
        try
        {
            _ = Cluster.Client;
        }
        catch (InvalidOperationException)
        {
            await Cluster.InitializeClientAsync();
        }
    }

    public async Task DisposeAsync()
    {
        if (cluster is not null)
        {
            await cluster.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "Orleans cluster";
}

/// <summary>The bundled MNIST digits, found above the test binaries.</summary>
internal static class Digits
{
    private static readonly Lazy<MnistData<double>> Loaded = new(() => Mnist.Load<double>(Path.Combine(Root(), "data", "mnist-10k")));

    /// <summary>The first <paramref name="count"/> training digits.</summary>
    public static Dataset<double> Training(int count) => Loaded.Value.Training.Take(count);

    private static readonly Lazy<MnistData<float>> Loaded32 = new(() => Mnist.Load<float>(Path.Combine(Root(), "data", "mnist-10k")));

    /// <summary>The first <paramref name="count"/> training digits in float32.</summary>
    public static Dataset<float> TrainingFloat32(int count) => Loaded32.Value.Training.Take(count);

    /// <summary>The first <paramref name="count"/> test digits.</summary>
    public static Dataset<double> Test(int count) => Loaded.Value.Test.Take(count);

    /// <summary>The repository's root: the first folder above the test binaries that holds the solution.</summary>
    public static string Root() => FunctionalBackprop.Testing.RepositoryRoot.Path;
}

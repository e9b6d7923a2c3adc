using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Security.Cryptography;

namespace FunctionalBackprop.Soak;

/// <summary>
/// Trains Nielsen's chapter-1 network shape (784-30-10, sigmoid, quadratic cost, SGD η = 3,
/// mini-batches of 10) on the first EXAMPLES bundled MNIST training digits for EPOCHS epochs, with
/// 500 test digits evaluated after each epoch, and prints the managed heap
/// (GC.GetTotalMemory(forceFullCollection: true)) every EVERY epochs and at epochs 20 and EPOCHS,
/// then the growth between epoch 20 and the last, and a hash of the final weights' bits (the same
/// seed and settings must give the same hash, run after run: RELIABILITY.md, "Determinism"). The heap is measured inside the progress
/// callback, which the facade calls on the training thread between epochs, so every measurement
/// sees the same live training state; what grows is what the run keeps.
///
///   dotnet run --project benchmarks/Soak -c Release -- [--epochs 200] [--examples 1000] [--batch 10] [--every 20] [--shards cores] [--managed]
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        var epochs = Option(args, "--epochs", 200);
        var examples = Option(args, "--examples", 1000);
        var every = Option(args, "--every", 20);
        var batch = Option(args, "--batch", 10);
        var shards = Option(args, "--shards", Environment.ProcessorCount);
        if (args.Contains("--managed"))
        {
            LinearAlgebra.UseManaged();
        }

        var mnist = Mnist.Load<double>(MnistFolder());
        var training = mnist.Training.Slice(0, Math.Min(examples, mnist.Training.Count));
        var validation = mnist.Test.Slice(0, 500);
        var network = NeuralNetwork.Create(784).Dense(30, Activation.Sigmoid).Dense(10, Activation.Sigmoid).Build(seed: 1);
        var options = new FitOptions
        {
            Epochs = epochs,
            BatchSize = batch,
            Shards = shards,
            Loss = Loss.Quadratic,
            Optimizer = Optimizer.Sgd(3.0),
            Seed = 1,
            ValidationData = validation,
        };

        Console.WriteLine($"Soak: 784-30-10 sigmoid, SGD η = 3, batch {batch} in {Math.Min(shards, batch)} shard(s), {training.Count} training digits, 500 validation digits, {epochs} epochs; GEMM provider {LinearAlgebra.Provider}");
        Console.WriteLine($"{"epoch",6} {"heap bytes",12} {"Δ from 20",10} {"loss",9} {"accuracy",8} {"elapsed",9}");
        var heap = new SortedDictionary<int, long>();
        var baseline = 0L;
        var progress = new Synchronous(report =>
        {
            if (report.Epoch != 20 && report.Epoch != epochs && report.Epoch % every != 0 && report.Epoch != 1)
            {
                return;
            }

            var bytes = GC.GetTotalMemory(forceFullCollection: true);
            heap[report.Epoch] = bytes;
            if (report.Epoch == 20)
            {
                baseline = bytes;
            }

            var delta = report.Epoch >= 20 ? (bytes - baseline).ToString("+#,0;-#,0;0", CultureInfo.InvariantCulture) : "";
            Console.WriteLine($"{report.Epoch,6} {bytes,12:#,0} {delta,10} {report.TrainingLoss,9:F5} {report.ValidationAccuracy,8:P1} {report.Elapsed.TotalSeconds,8:F1}s");
        });

        var result = network.Fit(training, options, progress);
        if (!heap.ContainsKey(20) || !heap.ContainsKey(epochs))
        {
            Console.WriteLine($"The run stopped at epoch {result.History.Count}, before the epochs measured.");
            return 1;
        }

        Console.WriteLine($"Final weights and biases, SHA-256 of their bits: {WeightsHash(result.Network)}");
        var after20 = heap.Where(kv => kv.Key >= 20).Select(kv => kv.Value).ToArray();
        Console.WriteLine($"Heap at epoch 20: {heap[20]:#,0} bytes; at epoch {epochs}: {heap[epochs]:#,0} bytes; growth {heap[epochs] - heap[20]:+#,0;-#,0;0} bytes " +
                          $"({(heap[epochs] - heap[20]) / (double)heap[20]:+0.0%;-0.0%;0%}); range over epochs 20 … {epochs}: {after20.Max() - after20.Min():#,0} bytes.");
        Console.WriteLine($"Collections: gen0 {GC.CollectionCount(0)}, gen1 {GC.CollectionCount(1)}, gen2 {GC.CollectionCount(2)}; allocated in all {GC.GetTotalAllocatedBytes():#,0} bytes.");
        return 0;
    }

    /// <summary>The SHA-256 of every weight and bias, layer by layer, as little-endian doubles: equal hashes, bit-identical networks.</summary>
    private static string WeightsHash(NeuralNetwork<double> network)
    {
        using var bits = new MemoryStream();
        using (var writer = new BinaryWriter(bits))
        {
            for (var i = 0; i < network.Layers.Count; i++)
            {
                foreach (var w in network.GetWeights(i))
                {
                    writer.Write(w);
                }

                foreach (var b in network.GetBiases(i))
                {
                    writer.Write(b);
                }
            }
        }

        return Convert.ToHexString(SHA256.HashData(bits.ToArray()))[..16].ToLowerInvariant();
    }

    private static int Option(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    private static string MnistFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "data", "mnist-10k");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("data/mnist-10k was not found above the program's folder.");
    }

    /// <summary>Calls the action on the reporting thread (System.Progress would post it elsewhere).</summary>
    private sealed class Synchronous(Action<EpochReport> action) : IProgress<EpochReport>
    {
        public void Report(EpochReport value) => action(value);
    }
}

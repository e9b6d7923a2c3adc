using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;
using System.Text;
using FunctionalBackprop.Onnx;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop.Fuzz;

/// <summary>
/// The seed corpus: small valid files of each kind (afl-fuzz mutates them), made from the
/// library's own writer and from the bundled MNIST files, plus a few already-broken ones.
/// </summary>
internal static class Seeds
{
    /// <summary>Writes FOLDER/model, FOLDER/idx, FOLDER/csv, FOLDER/onnx and FOLDER/selfcheck.</summary>
    public static void Write(string folder)
    {
        Models(Directory.CreateDirectory(Path.Combine(folder, "model")).FullName);
        Idx(Directory.CreateDirectory(Path.Combine(folder, "idx")).FullName);
        Csv(Directory.CreateDirectory(Path.Combine(folder, "csv")).FullName);
        Onnx(Directory.CreateDirectory(Path.Combine(folder, "onnx")).FullName);
        File.WriteAllText(Path.Combine(Directory.CreateDirectory(Path.Combine(folder, "selfcheck")).FullName, "seed"), "hi!");
    }

    private static void Models(string folder)
    {
        double[][] inputs = { new[] { 0.0, 0.0 }, new[] { 0.0, 1.0 }, new[] { 1.0, 0.0 }, new[] { 1.0, 1.0 } };
        int[] labels = { 0, 1, 1, 0 };
        var network = NeuralNetwork.Create(2).Dense(2, Activation.LeakyReLU(0.1)).Dense(1, Activation.Sigmoid).Build(seed: 1);
        network.Save(Path.Combine(folder, "network-float64.fbnn"));
        network.WithScaler(Scaler.FitStandard(inputs)).Save(Path.Combine(folder, "network-scaler.fbnn"));
        NeuralNetwork.Create(2).Dense(2, Activation.Softmax).Build<float>(seed: 2).Save(Path.Combine(folder, "network-float32.fbnn"));
        FitOptions Options(Optimizer optimizer) => new() { Epochs = 2, BatchSize = 2, Seed = 3, Loss = Loss.BinaryCrossEntropy, Optimizer = optimizer };
        network.Fit(inputs, labels, Options(Optimizer.Adam(0.05))).Checkpoint.Save(Path.Combine(folder, "checkpoint-adam.fbnn"));
        network.Fit(inputs, labels, Options(Optimizer.Momentum(0.1, 0.9).WithGradientClipping(1.0))).Checkpoint.Save(Path.Combine(folder, "checkpoint-clipped-momentum.fbnn"));
        network.Fit(inputs, labels, Options(Optimizer.SteepestDescent())).Checkpoint.Save(Path.Combine(folder, "checkpoint-line-search.fbnn"));
    }

    private static byte[] Gunzip(string path)
    {
        using var gzip = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var copy = new MemoryStream();
        gzip.CopyTo(copy);
        return copy.ToArray();
    }

    private static byte[] Gzip(byte[] bytes)
    {
        using var copy = new MemoryStream();
        using (var gzip = new GZipStream(copy, CompressionLevel.SmallestSize))
        {
            gzip.Write(bytes);
        }

        return copy.ToArray();
    }

    /// <summary>The first items of a real IDX file, its header's count rewritten to match.</summary>
    private static byte[] FirstItems(byte[] idx, int items)
    {
        var rank = idx[3];
        var itemSize = 1;
        for (var d = 1; d < rank; d++)
        {
            itemSize *= BinaryPrimitives.ReadInt32BigEndian(idx.AsSpan(4 + 4 * d));
        }

        var header = 4 + 4 * rank;
        var piece = idx.AsSpan(0, header + items * itemSize).ToArray();
        BinaryPrimitives.WriteInt32BigEndian(piece.AsSpan(4), items);
        return piece;
    }

    private static string MnistFolder() => RepositoryFolder("data/mnist-10k");

    /// <summary>A folder of the repository, found above the program's folder (or else under the working directory).</summary>
    private static string RepositoryFolder(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, relative);
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return Path.Combine(Directory.GetCurrentDirectory(), relative);
    }

    private static void Idx(string folder)
    {
        var mnist = MnistFolder();
        var labels = Gunzip(Path.Combine(mnist, "t10k-labels-idx1-ubyte.gz"));
        var images = Gunzip(Path.Combine(mnist, "t10k-images-idx3-ubyte.gz"));
        var labels8 = FirstItems(labels, 8);
        var images1 = FirstItems(images, 1);
        File.WriteAllBytes(Path.Combine(folder, "labels-8.idx"), labels8);
        File.WriteAllBytes(Path.Combine(folder, "labels-8.idx.gz"), Gzip(labels8));
        File.WriteAllBytes(Path.Combine(folder, "image-1.idx"), images1);
        File.WriteAllBytes(Path.Combine(folder, "image-1.idx.gz"), Gzip(images1));
        // A real file cut short: its header claims 10,000 labels (2,000 in the bundled subset).
        File.WriteAllBytes(Path.Combine(folder, "labels-truncated.idx"), labels.AsSpan(0, 40).ToArray());
        File.WriteAllBytes(Path.Combine(folder, "labels-truncated.idx.gz"), File.ReadAllBytes(Path.Combine(mnist, "t10k-labels-idx1-ubyte.gz")).AsSpan(0, 64).ToArray());
    }

    /// <summary>
    /// ONNX models: the library's exports in both element types (every activation, the float64
    /// forms Max/Mul and Greater/Cast, an old and a new opset, an input scaler in each type, and
    /// networks on images with every kind that takes them: Conv, BatchNormalization, MaxPool,
    /// AveragePool with padding, Flatten) and the PyTorch exports the unit tests read (Gemm, MatMul
    /// + Add, Flatten, Reshape, initializers as inputs, and LeNet-style files with Conv, MaxPool, a
    /// Pad of zeros before an AveragePool and BatchNormalization after a Gemm).
    /// </summary>
    private static void Onnx(string folder)
    {
        var mixed = NeuralNetwork.Create(3).Dense(4, Activation.LeakyReLU(0.1)).Dense(3, Activation.Step).Dense(2, Activation.Softmax);
        mixed.Build<float>(seed: 1).SaveOnnx(Path.Combine(folder, "export-float32.onnx"));
        mixed.Build<double>(seed: 1).SaveOnnx(Path.Combine(folder, "export-float64.onnx"));
        NeuralNetwork.Create(2).Dense(3, Activation.Tanh).Dense(1, Activation.Sigmoid).Build<float>(seed: 2)
            .SaveOnnx(Path.Combine(folder, "export-opset9.onnx"), new OnnxExportOptions { Opset = 9, IrVersion = 4 });
        NeuralNetwork.Create(2).Dense(2, Activation.ReLU).Dense(2, Activation.Identity).Build<double>(seed: 3)
            .SaveOnnx(Path.Combine(folder, "export-opset21.onnx"), new OnnxExportOptions { Opset = 21, IrVersion = 10 });
        var scaler = Scaler.FitMinMax(new[] { new[] { 1.0, 20.0, -3.0 }, new[] { 4.0, -50.0, 6.5 } });
        mixed.Build<float>(seed: 4).WithScaler(scaler).SaveOnnx(Path.Combine(folder, "export-scaler-float32.onnx"));
        mixed.Build<double>(seed: 4).WithScaler(scaler).SaveOnnx(Path.Combine(folder, "export-scaler-float64.onnx"));
        OnnxNetwork.Save(ImageNetwork<float>(5), Path.Combine(folder, "export-image-float32.onnx"));
        OnnxNetwork.Save(ImageNetwork<double>(6), Path.Combine(folder, "export-image-float64.onnx"), new OnnxExportOptions { Opset = 11, IrVersion = 6 });
        var pytorch = RepositoryFolder("tests/Unit/Onnx/Data");
        foreach (var name in new[]
        {
            "initializers-as-inputs-float32-opset9.onnx", "matmul-nobias-float32-opset17.onnx", "matmul-add-relu-float32-opset13.onnx", "flatten-gemm-float32-opset13.onnx",
            "reshape-gemm-float64-opset13.onnx", "lenet-avgpool-padded-float32-opset9.onnx", "lenet-maxpool-float32-opset11.onnx", "lenet-batchnorm-linear-float32-opset17.onnx",
        })
        {
            File.Copy(Path.Combine(pytorch, name), Path.Combine(folder, "pytorch-" + name));
        }
    }

    /// <summary>
    /// A small network on 1 × 6 × 5 images with every kind that takes images: conv 3 × 3 with
    /// padding, batch normalisation, ReLU, max pooling, conv 2 × 2 with tanh, average pooling with
    /// padding, flatten, a dense softmax layer.
    /// </summary>
    private static Core.Network<T> ImageNetwork<T>(ulong seed)
        where T : System.Numerics.IFloatingPointIeee754<T>
    {
        Core.Window Window(int height, int width) => new(height, width);
        var xavier = Microsoft.FSharp.Core.FSharpOption<Core.Initializer>.Some(Core.Initializer.XavierNormal);
        return Core.Network.init<T>(seed, Core.Shape.NewImage(1, 6, 5), new[]
        {
            Core.LayerSpec.NewConv2D(2, Window(3, 3), Window(1, 1), Window(1, 1), Core.Activation.Identity, xavier), Core.LayerSpec.NewBatchNorm(0.1, 1e-5),
            Core.LayerSpec.NewActivation(Core.Activation.ReLU), Core.LayerSpec.NewMaxPool2D(Window(2, 2), Window(2, 1), Window(0, 0)),
            Core.LayerSpec.NewConv2D(2, Window(2, 2), Window(1, 1), Window(0, 0), Core.Activation.Tanh, xavier),
            Core.LayerSpec.NewAvgPool2D(Window(2, 2), Window(1, 1), Window(1, 1)), Core.LayerSpec.Flatten,
            Core.LayerSpec.NewDense(2, Core.Activation.Softmax, xavier),
        });
    }

    private static void Csv(string folder)
    {
        void Text(string name, string text) => File.WriteAllText(Path.Combine(folder, name), text, new UTF8Encoding(false));
        Text("classification.csv", "x,y,class\n0.5,1e-3,a\n-2,3.25,b\n1E2,0,a\n");
        Text("quoted.csv", "\"width, cm\",\"say \"\"hi\"\"\",label\n1,2,\"yes\"\r\n3,4,\"no\"\r\n");
        Text("regression-semicolon.csv", "1.5;2;3\n-1;0.25;7\n");
        Text("regression.csv", "a,b,target\n1,2,3.5\n4,5,-6e10\n");
    }
}

using System;
using System.Collections.Generic;
using System.IO;
using System.Numerics;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop;

/// <summary>MNIST's training and test digits, ready to train on.</summary>
/// <typeparam name="T">double or float.</typeparam>
/// <param name="Training">The training digits: 1 × 28 × 28 images (<see cref="Dataset{T}.InputImage"/>), 784 pixels in [0, 1] per input (the loader divides the bytes by 255), one-hot targets of 10.</param>
/// <param name="Test">The test digits, likewise.</param>
/// <param name="TrainingLabels">The digit each training image shows.</param>
/// <param name="TestLabels">The digit each test image shows.</param>
public sealed record MnistData<T>(Dataset<T> Training, Dataset<T> Test, IReadOnlyList<int> TrainingLabels, IReadOnlyList<int> TestLabels)
    where T : IFloatingPointIeee754<T>;

/// <summary>Loads MNIST from its standard IDX files (gzip-compressed or raw).</summary>
public static class Mnist
{
    /// <summary>
    /// Loads train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and
    /// t10k-labels-idx1-ubyte (each with or without .gz) from a folder; the full 60,000/10,000
    /// MNIST and the bundled 8,000/2,000 subset (data/mnist-10k) load alike. Pixels are scaled to
    /// [0, 1] (byte/255) as they load, so no <see cref="Scaler"/> is needed.
    /// </summary>
    /// <typeparam name="T">double or float.</typeparam>
    /// <param name="folder">The folder holding the four files.</param>
    /// <exception cref="FileNotFoundException">A file is missing.</exception>
    /// <exception cref="InvalidDataException">A file is truncated or corrupt; the message names it and the problem.</exception>
    public static MnistData<T> Load<T>(string folder)
        where T : IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(folder);
        NeuralNetwork.CheckRealType<T>();
        var (training, test) = Core.Mnist.load<T>(folder);
        return new MnistData<T>(ToDataset(training), ToDataset(test), training.Labels, test.Labels);
    }

    private static Dataset<T> ToDataset<T>(Core.DigitSet<T> set)
        where T : IFloatingPointIeee754<T> =>
        Dataset<T>.FromCore(set.Images, Core.ClassLabels.oneHot<T>(10, set.Labels), 10, new ImageShape(1, set.Rows, set.Columns));
}

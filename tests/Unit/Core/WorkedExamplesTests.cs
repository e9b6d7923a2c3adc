using System;
using Microsoft.FSharp.Core;
using System.Linq;
using FunctionalBackprop.Core;
using Xunit;

namespace FunctionalBackprop.Tests.CoreApi;

// The facade's types of the same names live in an enclosing namespace; these are the core's.
using Activation = FunctionalBackprop.Core.Activation;
using Initializer = FunctionalBackprop.Core.Initializer;
using Loss = FunctionalBackprop.Core.Loss;

/// <summary>The source texts' worked examples, computed by hand in the test and by the library.</summary>
public class WorkedExamplesTests
{
    private static Matrix<double> Column(params double[] values) => Matrix.ofVector(values);

    [Fact]
    public void HadamardProductOfOneTwoAndThreeFourIsThreeEight()
    {
        // Nielsen's eq. (28): [1, 2] ⊙ [3, 4] = [1·3, 2·4].
        var product = Matrix.hadamard(Column(1, 2), Column(3, 4));
        Assert.Equal(new[] { 3.0, 8.0 }, product.ToArray());
    }

    /// <summary>
    /// The lecture note's chain L = (φ₂(w₂ φ₁(w₁ x)) − y)², with φ₁ = tanh and φ₂ = σ, no biases.
    /// By hand: ∂L/∂w₂ = 2(φ₂ − y) φ₂'(w₂φ₁) φ₁(w₁x) and
    /// ∂L/∂w₁ = 2(φ₂ − y) φ₂'(w₂φ₁) w₂ φ₁'(w₁x) x, where the first two factors are shared:
    /// the repeated derivative the note says to store. The library's quadratic loss is ½(a − y)²,
    /// so its gradient is half of L's.
    /// </summary>
    [Theory]
    [InlineData(0.7, -1.3, 0.4, 0.25)]
    [InlineData(2.0, 0.5, -1.5, 1.0)]
    [InlineData(-0.3, 3.0, 1.1, 0.0)]
    public void TwoWeightChainMatchesTheHandDerivation(double w1, double w2, double x, double y)
    {
        var layer1 = Dense.create(Column(w1), Column(0.0), Activation.Tanh);
        var layer2 = Dense.create(Column(w2), Column(0.0), Activation.Sigmoid);
        var network = Network.ofDense(new[] { layer1, layer2 });

        var phi1 = Math.Tanh(w1 * x);
        var phi2 = 1.0 / (1.0 + Math.Exp(-w2 * phi1));
        var shared = 2.0 * (phi2 - y) * phi2 * (1.0 - phi2);
        var dLdw2 = shared * phi1;
        var dLdw1 = shared * w2 * (1.0 - phi1 * phi1) * x;

        var gradient = Backprop.gradient(Mode.Inference, Loss.Quadratic, network, Column(x), Column(y));
        var layers = gradient.Layers.ToArray();
        Assert.Equal(dLdw1, 2.0 * layers[0].Tensors[0][0, 0], 14);
        Assert.Equal(dLdw2, 2.0 * layers[1].Tensors[0][0, 0], 14);
    }

    /// <summary>
    /// The handwritten notes' linear layer y = W x: dL/dx = Wᵀ dL/dy and dL/dW = dL/dy · xᵀ,
    /// here with W = [[1, 2], [3, 4]], x = [5, 6] and dL/dy = [7, 8].
    /// </summary>
    [Fact]
    public void LinearLayerSendsDownWTransposeTimesTheGradientAndGetsItsOuterProduct()
    {
        var w = Matrix.ofRows(new[] { new[] { 1.0, 2.0 }, new[] { 3.0, 4.0 } });
        var layer = Dense.create(w, Column(0.0, 0.0), Activation.Identity);
        var network = Network.ofDense(new[] { layer });
        var trace = Forward.trace(Mode.Inference, network, Column(5, 6));

        var (gradients, dx) = Backprop.backward(network, trace, Upstream<double>.NewOutputGradient(Column(7, 8)));

        // Wᵀ [7, 8] = [1·7 + 3·8, 2·7 + 4·8] = [31, 46].
        Assert.Equal(new[] { 31.0, 46.0 }, dx.ToArray());
        // [7, 8] [5, 6]ᵀ = [[35, 42], [40, 48]], stored column by column.
        Assert.Equal(new[] { 35.0, 40.0, 42.0, 48.0 }, gradients.Layers.Head.Tensors[0].ToArray());
        Assert.Equal(new[] { 7.0, 8.0 }, gradients.Layers.Head.Tensors[1].ToArray());
    }

    [Fact]
    public void NoGradientPassesThroughTheStepActivation()
    {
        // The lecture: the step function's derivative is 0, so gradient descent cannot use it.
        var network = Network.init<double>(3UL, Shape.NewVector(2), new[]
        {
            LayerSpec.NewDense(3, Activation.Step, FSharpOption<Initializer>.Some(Initializer.StandardNormal)),
            LayerSpec.NewDense(1, Activation.Sigmoid, FSharpOption<Initializer>.Some(Initializer.StandardNormal)),
        });
        var gradient = Backprop.gradient(Mode.Inference, Loss.Quadratic, network, Column(0.5, -0.2), Column(1.0));
        var first = gradient.Layers.Head;
        Assert.All(first.Tensors[0].ToArray().Concat(first.Tensors[1].ToArray()), v => Assert.Equal(0.0, v));
        Assert.Contains(gradient.Layers.Last().Tensors[0].ToArray(), v => v != 0.0);
    }
}

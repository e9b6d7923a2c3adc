namespace FunctionalBackprop.Core

/// Networks known by name, as lists of layer specs on their input shape.
module Architectures =

    /// LeNet-5 as PyTorch's tutorials and the benchmark's W7 write it, on 1×28×28 digits:
    /// conv 5×5 ×6 (padding 2), σ, max 2×2 → conv 5×5 ×16, σ, max 2×2 → flatten (400) → dense
    /// 120, σ → dense 84, σ → dense 10 softmax; weights drawn by the initializer, or when None by
    /// the one that suits σ.
    let lenet5 (activation: Activation) (initializer: Initializer option) : Shape * LayerSpec list =
        let conv filters padding = LayerSpec.Conv2D(filters, Window.square 5, Window.square 1, Window.square padding, activation, initializer)
        let pool = LayerSpec.MaxPool2D(Window.square 2, Window.square 2, Window.none)
        Shape.Image(1, 28, 28),
        [ conv 6 2; pool; conv 16 0; pool; LayerSpec.Flatten
          LayerSpec.Dense(120, activation, initializer); LayerSpec.Dense(84, activation, initializer); LayerSpec.Dense(10, Activation.Softmax, initializer) ]

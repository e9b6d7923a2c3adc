namespace FunctionalBackprop.Core

/// What one parameter tensor of a layer is: its name, how it is stored, and whether weight
/// decay applies to it. A layer's tensors come in a fixed order (a dense layer's weights, then
/// its biases); every walk over a network's parameters (updates, optimizer states, gradients,
/// files, the wire) takes them in that order, layer by layer, and needs nothing else.
type ParameterSpec =
    { /// The name ONNX and PyTorch give it: "weight", "bias".
      Name: string
      /// The symbol of the texts: "w", "b".
      Symbol: string
      /// Rows of the matrix it is stored as (column-major).
      Rows: int
      /// Columns of that matrix.
      Columns: int
      /// Whether L2 regularisation and weight decay apply to it (to weights, not to biases, as in
      /// network2.py).
      Decays: bool }

    /// Rows × columns.
    member s.Count = s.Rows * s.Columns

namespace FunctionalBackprop.Core

open System
open System.IO
open System.Numerics

/// A set of digit images with their labels.
type DigitSet<'T when 'T :> IFloatingPointIeee754<'T>> =
    { /// One column per image: its rows × columns pixels, row by row, scaled to [0, 1].
      Images: Matrix<'T>
      /// The digit each image shows, 0 … 9.
      Labels: int[]
      /// Pixel rows per image.
      Rows: int
      /// Pixel columns per image.
      Columns: int }

    /// The shape of an example: an image of one channel, 1 × rows × columns (its pixels stored
    /// row by row, as Images holds them; a dense first layer takes them as rows·columns values).
    member d.Shape = Shape.Image(1, d.Rows, d.Columns)

/// Loading MNIST from its four IDX files, gzip-compressed or not, under their standard names:
/// train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte,
/// t10k-labels-idx1-ubyte (each with or without .gz). The full 60,000/10,000 set loads the same way.
module Mnist =

    let private find (folder: string) (name: string) =
        let candidates = [ Path.Combine(folder, name + ".gz"); Path.Combine(folder, name) ]
        match candidates |> List.tryFind File.Exists with
        | Some path -> path
        | None -> raise (FileNotFoundException($"MNIST file {name}(.gz) not found in {folder}.", candidates.Head))

    /// Reads one image file and one label file and checks that they belong together.
    let loadFiles<'T when 'T :> IFloatingPointIeee754<'T>> (imagesPath: string) (labelsPath: string) : DigitSet<'T> =
        let images = Idx.read imagesPath
        let labels = Idx.read labelsPath
        let imagesName, labelsName = Path.GetFileName imagesPath, Path.GetFileName labelsPath
        if images.Dimensions.Length <> 3 then
            raise (InvalidDataException($"{imagesName}: images need 3 dimensions (count, rows, columns), the file has {images.Dimensions.Length}."))
        if labels.Dimensions.Length <> 1 then
            raise (InvalidDataException($"{labelsName}: labels need 1 dimension (count), the file has {labels.Dimensions.Length}."))
        let count, rows, columns = images.Dimensions.[0], images.Dimensions.[1], images.Dimensions.[2]
        // With no images the data do not bound the image size, so check it here.
        if rows = 0 || columns = 0 || int64 rows * int64 columns > int64 Int32.MaxValue then
            raise (InvalidDataException($"{imagesName}: images of {rows} × {columns} pixels are not valid."))
        if labels.Dimensions.[0] <> count then
            raise (InvalidDataException($"{labelsName} holds {labels.Dimensions.[0]} labels but {imagesName} holds {count} images."))
        match Array.tryFindIndex (fun (l: byte) -> l > 9uy) labels.Values with
        | Some i -> raise (InvalidDataException($"{labelsName}: label {i} is {labels.Values.[i]}, not a digit 0 … 9."))
        | None -> ()
        let scale: 'T = Real.ofFloat (1.0 / 255.0)
        let pixels: 'T[] = Array.init images.Values.Length (fun i -> Real.ofInt<'T> (int images.Values.[i]) * scale)
        { Images = Matrix.wrap (rows * columns) count pixels
          Labels = labels.Values |> Array.map int
          Rows = rows
          Columns = columns }

    /// The training and test sets from a folder holding the four files.
    let load<'T when 'T :> IFloatingPointIeee754<'T>> (folder: string) : DigitSet<'T> * DigitSet<'T> =
        if isNull folder then nullArg "folder"
        if not (Directory.Exists folder) then raise (DirectoryNotFoundException($"The MNIST folder {folder} does not exist."))
        loadFiles (find folder "train-images-idx3-ubyte") (find folder "train-labels-idx1-ubyte"),
        loadFiles (find folder "t10k-images-idx3-ubyte") (find folder "t10k-labels-idx1-ubyte")

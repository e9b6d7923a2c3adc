using System;
using System.Collections.Generic;
using System.IO;
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

// Sets MethodImplAttributes.AggressiveOptimization (0x0200) on every method of an assembly that
// carries an attribute named HotPathAttribute, by rewriting the two bytes of the ImplFlags column
// of its MethodDef row in place. F# drops that flag from [<MethodImpl(...)>] (it emits only some
// of MethodImplOptions' bits), and without it a hot F# loop starts in tier-0 code under the
// runtime's default tiered compilation. Nothing else in the file changes; running it twice
// changes nothing the second time (the file is written only when a flag was missing).
if (args.Length != 1)
{
    Console.Error.WriteLine("usage: FunctionalBackprop.HotPaths <assembly.dll>");
    return 2;
}

var path = args[0];
var bytes = File.ReadAllBytes(path);
var patches = new List<int>();
int marked = 0;
using (var pe = new PEReader(new MemoryStream(bytes)))
{
    var reader = pe.GetMetadataReader();
    var methodDefs = reader.GetTableMetadataOffset(TableIndex.MethodDef);
    var rowSize = reader.GetTableRowSize(TableIndex.MethodDef);
    var metadataStart = pe.PEHeaders.MetadataStartOffset;
    foreach (var handle in reader.MethodDefinitions)
    {
        var method = reader.GetMethodDefinition(handle);
        var hot = false;
        foreach (var a in method.GetCustomAttributes())
        {
            var ctor = reader.GetCustomAttribute(a).Constructor;
            var type = ctor.Kind == HandleKind.MethodDefinition
                ? reader.GetTypeDefinition(reader.GetMethodDefinition((MethodDefinitionHandle)ctor).GetDeclaringType()).Name
                : ctor.Kind == HandleKind.MemberReference && reader.GetMemberReference((MemberReferenceHandle)ctor).Parent.Kind == HandleKind.TypeReference
                    ? reader.GetTypeReference((TypeReferenceHandle)reader.GetMemberReference((MemberReferenceHandle)ctor).Parent).Name
                    : default;
            hot |= !type.IsNil && reader.StringComparer.Equals(type, "HotPathAttribute");
        }

        if (!hot)
        {
            continue;
        }

        marked++;
        if ((method.ImplAttributes & MethodImplAttributes.AggressiveOptimization) == 0)
        {
            // A MethodDef row begins with RVA (4 bytes), then ImplFlags (2 bytes, little-endian).
            patches.Add(metadataStart + methodDefs + (MetadataTokens.GetRowNumber(handle) - 1) * rowSize + 4);
        }
    }
}

foreach (var offset in patches)
{
    var flags = (ushort)(bytes[offset] | bytes[offset + 1] << 8) | (ushort)MethodImplAttributes.AggressiveOptimization;
    bytes[offset] = (byte)flags;
    bytes[offset + 1] = (byte)(flags >> 8);
}

if (patches.Count > 0)
{
    File.WriteAllBytes(path, bytes);
}

Console.WriteLine($"{Path.GetFileName(path)}: {marked} hot-path methods, {patches.Count} flagged now.");
return 0;

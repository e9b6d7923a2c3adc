namespace FunctionalBackprop.Core

open System
open System.IO
open System.Runtime.InteropServices

/// The data caches of one core, in bytes: the first level, the second, and the share of the third
/// (or last) level per core.
type internal CacheSizes = { L1: int; L2: int; L3PerCore: int }

/// Native calls that report cache sizes: Windows' processor information and macOS's sysctl.
module internal CacheQueries =

    [<DllImport("kernel32", SetLastError = true)>]
    extern bool GetLogicalProcessorInformation(nativeint buffer, int& length)

    [<DllImport("libc", EntryPoint = "sysctlbyname")>]
    extern int sysctlbyname(string name, int64& value, unativeint& length, nativeint newValue, unativeint newLength)

/// The sizes of this processor's caches, which set the managed product's block sizes (Blocking).
/// Read from the operating system: Linux's /sys/devices/system/cpu, Windows'
/// GetLogicalProcessorInformation, macOS's sysctl (the performance cores' on Apple silicon).
/// Where a size cannot be read, a common one stands in (32 KB, 512 KB, 2 MB per core), and every
/// size is kept within what processors have (so a wrong report cannot make a block absurd).
module internal Caches =

    let private fallback = { L1 = 32 <<< 10; L2 = 512 <<< 10; L3PerCore = 2 <<< 20 }

    let private within (low: int) (high: int) (value: int64) = int (max (int64 low) (min (int64 high) value))

    /// Linux: each cache's level, type, size ("48K") and the processors sharing it.
    let private linux () =
        let directory = "/sys/devices/system/cpu/cpu0/cache"
        let read (path: string) = File.ReadAllText(path).Trim()
        let caches =
            [ for index in Directory.GetDirectories(directory, "index*") do
                  let level = int (read (Path.Combine(index, "level")))
                  let kind = read (Path.Combine(index, "type"))
                  let size = read (Path.Combine(index, "size"))
                  let bytes =
                      if size.EndsWith "K" then int64 (size.TrimEnd 'K') <<< 10
                      elif size.EndsWith "M" then int64 (size.TrimEnd 'M') <<< 20
                      else int64 size
                  let shared =
                      let list = Path.Combine(index, "shared_cpu_list")
                      if File.Exists list then
                          (read list).Split(',')
                          |> Array.sumBy (fun range ->
                              match range.Split('-') with
                              | [| first; last |] -> int last - int first + 1
                              | _ -> 1)
                      else 1
                  if kind <> "Instruction" then level, bytes, shared ]
        let find level = caches |> List.tryFind (fun (l, _, _) -> l = level)
        match find 1, find 2 with
        | Some(_, l1, _), Some(_, l2, _) ->
            let l3 =
                match find 3 with
                | Some(_, size, shared) -> size / int64 (max 1 shared)
                | None -> int64 fallback.L3PerCore
            Some(l1, l2, l3)
        | _ -> None

    /// Windows: the cache records of GetLogicalProcessorInformation (32 bytes each on 64-bit
    /// Windows: processor mask, relationship 2 for a cache, then level, size and type 0 unified
    /// or 2 data), the third level shared by every processor.
    let private windows () =
        if IntPtr.Size <> 8 then None
        else
            let mutable length = 0
            CacheQueries.GetLogicalProcessorInformation(0n, &length) |> ignore
            if length <= 0 then None
            else
                let buffer = Marshal.AllocHGlobal length
                try
                    if not (CacheQueries.GetLogicalProcessorInformation(buffer, &length)) then None
                    else
                        let records =
                            [ for offset in 0 .. 32 .. length - 32 do
                                  let relationship = Marshal.ReadInt32(buffer, offset + 8)
                                  let level = int (Marshal.ReadByte(buffer, offset + 16))
                                  let size = Marshal.ReadInt32(buffer, offset + 20)
                                  let kind = Marshal.ReadInt32(buffer, offset + 24)
                                  if relationship = 2 && (kind = 0 || kind = 2) then level, int64 size ]
                        let find level = records |> List.tryFind (fun (l, _) -> l = level) |> Option.map snd
                        match find 1, find 2 with
                        | Some l1, Some l2 ->
                            let l3 = find 3 |> Option.map (fun size -> size / int64 Environment.ProcessorCount)
                            Some(l1, l2, defaultArg l3 (int64 fallback.L3PerCore))
                        | _ -> None
                finally
                    Marshal.FreeHGlobal buffer

    /// macOS: sysctl's sizes, the performance cores' where there are several kinds.
    let private macOS () =
        let query (name: string) =
            let mutable value = 0L
            let mutable length = unativeint 8
            if CacheQueries.sysctlbyname (name, &value, &length, 0n, unativeint 0) = 0 && value > 0L then Some value else None
        let either (name: string) = query ("hw.perflevel0." + name) |> Option.orElse (query ("hw." + name))
        match either "l1dcachesize", either "l2cachesize" with
        | Some l1, Some l2 ->
            let l3 = query "hw.l3cachesize" |> Option.map (fun size -> size / int64 Environment.ProcessorCount)
            Some(l1, l2, defaultArg l3 (int64 fallback.L3PerCore))
        | _ -> None

    /// This processor's caches (read once).
    let sizes: Lazy<CacheSizes> =
        lazy
            (let reported =
                try
                    if OperatingSystem.IsLinux() then linux ()
                    elif OperatingSystem.IsWindows() then windows ()
                    elif OperatingSystem.IsMacOS() then macOS ()
                    else None
                with _ -> None
             match reported with
             | Some(l1, l2, l3) ->
                 { L1 = within (16 <<< 10) (256 <<< 10) l1
                   L2 = within (128 <<< 10) (16 <<< 20) l2
                   L3PerCore = within (256 <<< 10) (64 <<< 20) l3 }
             | None -> fallback)

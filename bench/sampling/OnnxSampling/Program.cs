// Times generator.onnx of an export folder in ONNX Runtime for .NET: N samples in batches of 1000 after one warm-up
// batch, the inputs its generator.json lists (labels: classes in turn; guidance: 1).
// usage: dotnet run --project bench/sampling/OnnxSampling -c Release -- EXPORT_DIR [N] [THREADS]
using System.Diagnostics;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

var dir = args.Length > 0 ? args[0] : throw new ArgumentException("usage: OnnxSampling EXPORT_DIR [N] [THREADS]");
var total = args.Length > 1 ? int.Parse(args[1]) : 10_000;
var threads = args.Length > 2 ? int.Parse(args[2]) : Environment.ProcessorCount;
using var card = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "generator.json")));
var noiseDim = card.RootElement.GetProperty("architecture").GetProperty("arguments").GetProperty("noise_dim").GetInt32();
var inputs = card.RootElement.GetProperty("inputs").EnumerateArray().Select(i => i.GetProperty("name").GetString()!).ToHashSet();
var classes = card.RootElement.TryGetProperty("classes", out var c) ? c.GetInt32() : 0;

var loading = Stopwatch.StartNew();
using var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1 };
using var session = new InferenceSession(Path.Combine(dir, "generator.onnx"), options);
loading.Stop();
var random = new Random(0);
const int batch = 1000;

List<NamedOnnxValue> Batch(int n)
{
    var noise = new float[n * noiseDim];
    for (var i = 0; i < noise.Length; i += 2)
    {
        var (r, phi) = (Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())), 2 * Math.PI * random.NextDouble());
        noise[i] = (float)(r * Math.Cos(phi));
        if (i + 1 < noise.Length) noise[i + 1] = (float)(r * Math.Sin(phi));
    }
    var feeds = new List<NamedOnnxValue> { NamedOnnxValue.CreateFromTensor("noise", new DenseTensor<float>(noise, [n, noiseDim])) };
    if (inputs.Contains("labels"))
        feeds.Add(NamedOnnxValue.CreateFromTensor("labels", new DenseTensor<long>(Enumerable.Range(0, n).Select(i => (long)(i % classes)).ToArray(), [n])));
    if (inputs.Contains("guidance"))
        feeds.Add(NamedOnnxValue.CreateFromTensor("guidance", new DenseTensor<float>(Enumerable.Repeat(1f, n).ToArray(), [n])));
    return feeds;
}

using (session.Run(Batch(batch))) { }
var timer = new Stopwatch();
for (var done = 0; done < total; done += batch)
{
    var feeds = Batch(Math.Min(batch, total - done));
    timer.Start();
    using var results = session.Run(feeds);
    timer.Stop();
}
Console.WriteLine($"onnxruntime {OrtEnv.Instance().GetVersionString()}, {threads} thread(s): session {loading.Elapsed.TotalSeconds:F2} s; "
    + $"{total} samples in {timer.Elapsed.TotalSeconds:F2} s, {total / timer.Elapsed.TotalSeconds:F0} per second");

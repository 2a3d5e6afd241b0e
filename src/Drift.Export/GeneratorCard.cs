using System.Text.Json;
using System.Text.Json.Serialization;

namespace Drift.Export;

/// <summary>One input or output of the exported generator: name, element type, shape ("batch" is the free dimension),
/// and what it means.</summary>
public sealed record CardTensor(string Name, string Dtype, object[] Shape, string Meaning);

/// <summary>The architecture the weights belong to, with the arguments that rebuild it (the PyTorch mirror's constructor
/// takes exactly these). <c>mlp</c>: noise_dim, width, depth, out_dim. <c>conv</c>: noise_dim, image_size, channels,
/// classes (0: unconditional), width, grid_blocks, cond_dim.</summary>
public sealed record CardArchitecture(string Name, IReadOnlyDictionary<string, int> Arguments);

/// <summary>Where the weights came from, and the Drift build that exported them (<c>drift VERSION+COMMIT</c>; null in
/// exports from before it was recorded).</summary>
public sealed record CardSource(string Run, long Step, string Data, string Field, string Weights, string? ExportedBy = null);

/// <summary>
/// <c>generator.json</c>, written beside the exported files: everything needed to use them without Drift. The noise is
/// standard normal float32; points come out in data units (the network's output times <see cref="DataStd"/> plus
/// <see cref="DataMean"/>, which the ONNX graph already applies; <see cref="ColumnNames"/> names their columns where the
/// data did: a CSV file's header), images in [0, 1], channels first. <see cref="ClassNames"/> names the labels 0, 1, ...
/// of a conditional generator (null in runs that did not record them).
/// </summary>
public sealed record GeneratorCard(
    string Format,
    string Kind,
    CardArchitecture Architecture,
    string Noise,
    IReadOnlyList<CardTensor> Inputs,
    IReadOnlyList<CardTensor> Outputs,
    double[]? DataMean,
    double[]? DataStd,
    IReadOnlyList<string>? ColumnNames,
    int? Classes,
    IReadOnlyList<string>? ClassNames,
    double? GuidanceMax,
    IReadOnlyDictionary<string, string> Files,
    CardSource Source)
{
    public const string FormatName = "drift-generator/1";
    public const string FileName = "generator.json";

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static GeneratorCard FromJson(string json) => JsonSerializer.Deserialize<GeneratorCard>(json, Json)
        ?? throw new JsonException("an empty generator card");

    // Relaxed escaping: the card is read by people too, and a strict encoder writes the version's '+' and any non-ASCII
    // class name as \uXXXX. The web page fetches it as a file, never inlines it in HTML.
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}

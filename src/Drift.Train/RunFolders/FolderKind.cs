namespace Drift.Train.RunFolders;

/// <summary>A kind of folder Drift writes (a run, a comparison, a particle study, a classifier, an export), with the names of the
/// files and subfolders it writes there: no other command may replace those (<see cref="OwnedFolder"/>).</summary>
/// <param name="Finished">What the folder holds once its work is done, and the files that say so: then not even its own
/// kind of command writes there again (a comparison's report, a trained network that metrics name by its folder).</param>
public sealed record FolderKind(string Name, string What, IReadOnlyList<string> Files, IReadOnlyList<string> Folders,
    (string What, string[] Files)? Finished = null)
{
    public static readonly FolderKind Run = new("run", "a training run",
        [RunFiles.Checkpoint, RunFiles.Config, RunFiles.Metrics, RunFiles.SamplesPlot, RunFiles.CurvesPlot, RunFiles.Grid, RunFiles.Eval, RunFiles.Log],
        [RunFiles.TensorBoard, RunFiles.GridFolder, RunFiles.SnapshotFolder]);

    /// <summary><c>drift compare</c> and <c>drift compare-images</c>: the report, and a run folder per field and seed below <see cref="CompareRuns"/>.</summary>
    public static readonly FolderKind Comparison = new("comparison", "a comparison", [CompareReport, CompareJson, CompareCurves, CompareSamples, RunFiles.Log], [CompareRuns],
        ("a finished comparison", [CompareReport, CompareJson]));
    public const string CompareReport = "report.md", CompareJson = "report.json", CompareCurves = "curves.png", CompareSamples = "samples.png", CompareRuns = "runs";

    /// <summary><c>drift particles</c>: one run's trace and plots, or a rate study's sweep, rates and plot (never both:
    /// side by side they would read as one study).</summary>
    public static readonly FolderKind Particles = new("particles", "a particle study", [.. ParticleRunFiles, .. RateStudyFiles], []);
    public const string ParticleTrace = "trace.csv", ParticleCurves = "curves.png", ParticlePositions = "particles.png",
        RateSweep = "sweep.csv", RatesCsv = "rates.csv", RatesMarkdown = "rates.md", RatesPlot = "rates.png";
    public static IReadOnlyList<string> ParticleRunFiles => [ParticleTrace, ParticleCurves, ParticlePositions];
    public static IReadOnlyList<string> RateStudyFiles => [RateSweep, RatesCsv, RatesMarkdown, RatesPlot];

    /// <summary><c>drift classifier</c> and <c>drift encoder</c>.</summary>
    public static readonly FolderKind Classifier = new("classifier", "a classifier", [ClassifierFile], [], ("a trained network", [ClassifierFile]));
    public const string ClassifierFile = "classifier.bin";

    /// <summary><c>drift export</c>: the generator's files and its web page.</summary>
    public static readonly FolderKind Export = new("export", "an exported generator",
        [Drift.Export.GeneratorCard.FileName, ExportOnnx, ExportSafetensors, ExportPyTorch], [ExportWeb]);
    public const string ExportOnnx = "generator.onnx", ExportSafetensors = "generator.safetensors", ExportPyTorch = "drift_generator.py", ExportWeb = "web";

    public static readonly IReadOnlyList<FolderKind> All = [Run, Comparison, Particles, Classifier, Export];
}

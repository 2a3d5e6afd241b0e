using Drift.Loss;
using Drift.Train;
using Drift.Train.Training.Images;
using TorchSharp;
using Drift.Train.RunFolders;
using Drift.Train.Training.Points;

namespace Drift.Tests;

/// <summary>
/// Run folders written before the field became an enum (drift at a241fb9: <c>drift train --steps 3 --width 8
/// --depth 1 --batch 32 --seed 1</c>, and the config.json of a laplace <c>drift train-images</c> run) still load:
/// the field and self term are read by name, and written back as the same text.
/// </summary>
public class PreviousFormatTests
{
    private static string Folder(string kind) => Path.Combine(AppContext.BaseDirectory, "PreviousFormat", kind);

    [Fact]
    public void APointsCheckpointLoadsWithItsConfigAndSamples()
    {
        var checkpoint = Checkpoint.Load(Folder("points"));
        var config = checkpoint.Config<TrainConfig>();
        Assert.Equal((FieldKind.Conservative, SelfTerm.Exclude, 8, 3L), (config.Field, config.SelfTerm, config.Width, checkpoint.Step));
        Assert.Equal(File.ReadAllText(Path.Combine(Folder("points"), "config.json")), config.ToJson());
        var samples = PointEvaluation.Generate(checkpoint, 64, Tensors.Seed());
        Assert.Equal(2, samples.GetLength(1));
        Assert.All(samples.Cast<float>(), v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void AnImageConfigReadsAndWritesBackTheSameText()
    {
        var path = Path.Combine(Folder("images"), "config.json");
        var config = ConfigJson.Load<ImageConfig>(path);
        Assert.Equal(FieldKind.Laplace, config.Field);
        Assert.Equal(config.Temperatures, config.Scales);
        // Written before the laplace field's image runs normalised over rows only by default: it keeps both axes.
        Assert.Equal((false, false), (config.RowsOnly, config.Resolved().RowsOnly));
        Assert.Equal(File.ReadAllText(path), config.ToJson());
    }

    [Theory]
    [InlineData("\"curl\"")]
    [InlineData("1")]
    [InlineData("null")]
    public void AFieldThatIsNoKnownNameIsAOneLineError(string value)
    {
        var json = File.ReadAllText(Path.Combine(Folder("points"), "config.json")).Replace("\"field\": \"conservative\"", $"\"field\": {value}");
        var e = Assert.Throws<UserError>(() => ConfigJson.Read<TrainConfig>(json, "config.json"));
        Assert.StartsWith("config.json: not a valid run configuration", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}

using Drift.Train;
using Drift.Train.Distributed;
using Drift.Train.Training;
using Drift.Train.Training.Images;
using Drift.Train.Training.Points;

namespace Drift.Tests;

/// <summary>Which device --device names, and which GPU each process of a data-parallel run takes. No GPU is needed:
/// the choice is a function of the name, the local rank and the device count.</summary>
public class DeviceNameTests
{
    [Theory]
    [InlineData("cpu", true)]
    [InlineData("cuda", true)]
    [InlineData("cuda:0", true)]
    [InlineData("cuda:12", true)]
    [InlineData("cuda:", false)]
    [InlineData("cuda:-1", false)]
    [InlineData("cuda:+1", false)]
    [InlineData("cuda: 1", false)]
    [InlineData("cuda:1 ", false)]
    [InlineData("cuda:x", false)]
    [InlineData("CUDA", false)]
    [InlineData("gpu", false)]
    public void DeviceNamesAreCpuCudaOrCudaN(string name, bool valid)
    {
        Assert.Equal(valid, Components.IsDeviceName(name));
        var points = Record.Exception(() => new TrainConfig { Device = name }.Resolved().Validate());
        var images = Record.Exception(() => new ImageConfig { Device = name }.Resolved().Validate());
        foreach (var e in new[] { points, images })
            if (valid) Assert.Null(e);
            else Assert.Equal($"unknown device '{name}': use cpu, cuda or cuda:N", Assert.IsType<UserError>(e).Message);
    }

    /// <summary>The log names the device as --device does (no GPU needed to build a device value).</summary>
    [Fact]
    public void DevicesAreNamedAsTheOptionNamesThem()
    {
        Assert.Equal("cpu", Components.Name(TorchSharp.torch.CPU));
        Assert.Equal("cuda", Components.Name(new TorchSharp.torch.Device(TorchSharp.DeviceType.CUDA)));
        Assert.Equal("cuda:3", Components.Name(new TorchSharp.torch.Device(TorchSharp.DeviceType.CUDA, 3)));
    }

    [Fact]
    public void CudaNNamesItsGpuWhateverTheRank()
    {
        Assert.Equal(2, Components.CudaIndex("cuda:2", null, 3));
        Assert.Equal(2, Components.CudaIndex("cuda:2", 5, 3));
        Assert.Equal("--device cuda:3: libtorch sees 3 CUDA device(s), cuda:0 to cuda:2",
            Assert.Throws<UserError>(() => Components.CudaIndex("cuda:3", null, 3)).Message);
    }

    /// <summary>Alone, plain cuda is libtorch's current device; the processes of a data-parallel run on one machine take
    /// its GPUs in turn, so that eight processes on eight GPUs do not all train on the first.</summary>
    [Fact]
    public void PlainCudaGivesEachLocalRankAGpuInTurn()
    {
        Assert.Null(Components.CudaIndex("cuda", null, 4));
        Assert.Equal([0, 1, 2, 3, 0, 1], Enumerable.Range(0, 6).Select(r => Components.CudaIndex("cuda", r, 4)!.Value));
        Assert.Equal([0, 0, 0], Enumerable.Range(0, 3).Select(r => Components.CudaIndex("cuda", r, 1)!.Value));
    }

    /// <summary>M machines of P processes each, placed as launchers place them: in blocks (ranks 0..P-1 on the first
    /// machine; local rank = rank mod P) or round-robin (rank r on machine r mod M; local rank = r div M).</summary>
    [Fact]
    public void TheLocalRankCountsTheLowerRanksOnTheSameMachine()
    {
        var random = new Random(Tensors.Seed());
        var (m, p) = (random.Next(1, 6), random.Next(1, 9));
        var ranks = Enumerable.Range(0, m * p).ToArray();
        string[] blocks = [.. ranks.Select(r => $"node{r / p}")];
        string[] roundRobin = [.. ranks.Select(r => $"node{r % m}")];
        Assert.Equal(ranks.Select(r => r % p), ranks.Select(r => DataParallel.LocalRankOf(blocks, r)));
        Assert.Equal(ranks.Select(r => r / m), ranks.Select(r => DataParallel.LocalRankOf(roundRobin, r)));
        var expected = $"{m * p} processes on {m} machine{(m == 1 ? "" : "s")}: " + string.Join(", ", Enumerable.Range(0, m).Select(k => $"node{k} ×{p}"));
        Assert.Equal(expected, DataParallel.PlacementOf(blocks));
        Assert.Equal(expected, DataParallel.PlacementOf(roundRobin));
    }

    /// <summary>The processes on a machine split the threads one process would use (64, 8 processes: 8 each), one at least.</summary>
    [Theory]
    [InlineData(64, 8, 8)]
    [InlineData(2, 2, 1)]
    [InlineData(16, 3, 5)]
    [InlineData(4, 8, 1)]
    public void ProcessesOnAMachineShareItsThreads(int threads, int processes, int each) => Assert.Equal(each, DataParallel.ThreadsEach(threads, processes));
}

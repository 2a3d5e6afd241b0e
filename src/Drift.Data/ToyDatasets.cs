using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Data;

/// <summary>The classic 2-D toy distributions, sampled from a caller's generator so runs are reproducible.</summary>
public static class ToyDatasets
{
    public static readonly IReadOnlyList<string> Names = ["checkerboard", "swissroll", "8gaussians", "25gaussians", "moons", "rings", "pinwheel"];

    public static bool Contains(string name) => Names.Contains(name);

    public static Tensor Sample(string name, int n, Generator g) => name switch
    {
        "checkerboard" => Checkerboard(n, g),
        "swissroll" => SwissRoll(n, g),
        "8gaussians" or "25gaussians" => Mixture(Centers(name)!, ComponentStd(name), n, g),
        "moons" => Moons(n, g),
        "rings" => Rings(n, g),
        "pinwheel" => Pinwheel(n, g),
        _ => throw new ArgumentException($"unknown toy dataset '{name}'"),
    };

    /// <summary>The component std of the sets that are mixtures.</summary>
    public static double ComponentStd(string name) => name == "8gaussians" ? 0.35 : 0.1;

    /// <summary>Mixture components of the sets that are mixtures (for mode coverage); null otherwise.</summary>
    public static double[,]? Centers(string name) => name switch
    {
        "8gaussians" => EightCenters(),
        "25gaussians" => GridCenters(),
        _ => null,
    };

    /// <summary>Eight alternating squares of side 2 on [−4, 4]².</summary>
    private static Tensor Checkerboard(int n, Generator g)
    {
        var x1 = torch.rand(n, generator: g) * 4 - 2;
        var x2 = torch.rand(n, generator: g) - torch.randint(0, 2, [n], generator: g).to(float32) * 2;
        x2 = x2 + torch.floor(x1).remainder(2);
        return torch.stack([x1, x2], 1) * 2;
    }

    private static Tensor SwissRoll(int n, Generator g)
    {
        var t = (torch.rand(n, generator: g) * 2 + 1) * (1.5 * Math.PI);
        var roll = torch.stack([t * torch.cos(t), t * torch.sin(t)], 1) / 5;
        return roll + 0.2 * torch.randn([n, 2], generator: g);
    }

    private static Tensor Moons(int n, Generator g)
    {
        var theta = torch.rand(n, generator: g) * Math.PI;
        var lower = torch.randint(0, 2, [n], generator: g).to(float32).unsqueeze(1);
        var upper = torch.stack([torch.cos(theta), torch.sin(theta)], 1);
        var other = torch.stack([1 - torch.cos(theta), 0.5 - torch.sin(theta)], 1);
        var points = upper * (1 - lower) + other * lower;
        return (points - torch.tensor(new float[] { 0.5f, 0.25f })) * 2 + 0.1 * torch.randn([n, 2], generator: g);
    }

    private static Tensor Rings(int n, Generator g)
    {
        var radius = (torch.randint(0, 4, [n], generator: g).to(float32) + 1) * 0.75;
        var angle = torch.rand(n, generator: g) * (2 * Math.PI);
        var ring = torch.stack([torch.cos(angle), torch.sin(angle)], 1) * radius.unsqueeze(1);
        return ring + 0.08 * torch.randn([n, 2], generator: g);
    }

    /// <summary>Five curved arms (Johnson et al. 2016): Gaussian blobs of std 0.3 radially and 0.05 across, at
    /// radius 1 along each arm's axis, rotated by an angle that grows with the radius (rate 0.25), then scaled by 2.</summary>
    private static Tensor Pinwheel(int n, Generator g)
    {
        const int arms = 5;
        var arm = torch.randint(0, arms, [n], generator: g).to(float32);
        var radial = 1 + 0.3 * torch.randn(n, generator: g);
        var across = 0.05 * torch.randn(n, generator: g);
        var angle = arm * (2 * Math.PI / arms) + 0.25 * torch.exp(radial);
        var (cos, sin) = (torch.cos(angle), torch.sin(angle));
        return torch.stack([radial * cos - across * sin, radial * sin + across * cos], 1) * 2;
    }

    private static Tensor Mixture(double[,] centers, double std, int n, Generator g)
    {
        var c = torch.tensor(centers, dtype: float32);
        var pick = torch.randint(0, centers.GetLength(0), [n], generator: g);
        return c.index_select(0, pick) + std * torch.randn([n, 2], generator: g);
    }

    private static double[,] EightCenters()
    {
        var c = new double[8, 2];
        for (var k = 0; k < 8; k++)
        {
            c[k, 0] = 2 * Math.Sqrt(2) * Math.Cos(k * Math.PI / 4);
            c[k, 1] = 2 * Math.Sqrt(2) * Math.Sin(k * Math.PI / 4);
        }
        return c;
    }

    private static double[,] GridCenters()
    {
        var c = new double[25, 2];
        for (var k = 0; k < 25; k++)
        {
            c[k, 0] = (k / 5 - 2) * 1.5;
            c[k, 1] = (k % 5 - 2) * 1.5;
        }
        return c;
    }
}

using Google.Protobuf;
using Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace Drift.Export;

/// <summary>
/// An ONNX graph under construction, in OnnxSharp's protobuf classes (ONNX's own onnx.proto, compiled): inputs and
/// outputs with a symbolic batch dimension, weights as initializers, and one method per operator Drift's generators
/// need, each returning the name of its output. Opset 17 (IR version 8), which Debian's python3-onnx 1.12 checks.
/// </summary>
public sealed class OnnxGraph
{
    public const int Opset = 17;
    private const long IrVersion = 8;
    /// <summary>The symbolic name of the batch dimension of every input and output.</summary>
    public const string Batch = "batch";

    private readonly GraphProto graph = new() { Name = "drift_generator" };
    private int names;

    public void Input(string name, TensorProto.Types.DataType type, params object[] dims) => graph.Input.Add(Value(name, type, dims));
    public void Output(string name, TensorProto.Types.DataType type, params object[] dims) => graph.Output.Add(Value(name, type, dims));

    /// <summary>A float32 weight, copied from <paramref name="tensor"/> (any device, any float type).</summary>
    public string Weight(string name, Tensor tensor)
    {
        using var host = tensor.detach().to(float32, CPU).contiguous();
        var bytes = new byte[host.numel() * sizeof(float)];
        Buffer.BlockCopy(host.data<float>().ToArray(), 0, bytes, 0, bytes.Length);
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(bytes) };
        t.Dims.AddRange(host.shape);
        graph.Initializer.Add(t);
        return name;
    }

    public string Floats(params float[] values) => Constant(TensorProto.Types.DataType.Float, values.Length, t => t.FloatData.AddRange(values));

    public string Longs(params long[] values) => Constant(TensorProto.Types.DataType.Int64, values.Length, t => t.Int64Data.AddRange(values));

    /// <summary>y = x·Wᵀ + b: a torch Linear's weight [out, in] as it is.</summary>
    public string Linear(string x, string weight, string bias) => Node("Gemm", [x, weight, bias], Int("transB", 1));

    /// <summary>Gives <paramref name="x"/> the name <paramref name="name"/> (a graph output's).</summary>
    public string Named(string x, string name)
    {
        var node = new NodeProto { OpType = "Identity", Name = Fresh("Identity") };
        node.Input.Add(x);
        node.Output.Add(name);
        graph.Node.Add(node);
        return name;
    }

    /// <summary><paramref name="row"/> [1, K] repeated for each row of <paramref name="like"/> [B, ...]: [B, K].</summary>
    public string RepeatForBatch(string row, string like, long k)
    {
        var batch = Node("Slice", [Node("Shape", [like]), Longs(0), Longs(1), Longs(0)]);
        return Node("Expand", [row, Concat(0, batch, Longs(k))]);
    }

    public string Silu(string x) => Node("Mul", [x, Node("Sigmoid", [x])]);
    public string Add(string a, string b) => Node("Add", [a, b]);
    public string Sub(string a, string b) => Node("Sub", [a, b]);
    public string Mul(string a, string b) => Node("Mul", [a, b]);
    public string Gather(string table, string indices) => Node("Gather", [table, indices], Int("axis", 0));
    public string Concat(int axis, params string[] xs) => Node("Concat", xs, Int("axis", axis));
    public string Reshape(string x, string shape) => Node("Reshape", [x, shape]);
    public string Unsqueeze(string x, params long[] axes) => Node("Unsqueeze", [x, Longs(axes)]);
    public string Clip(string x, float min, float max) => Node("Clip", [x, Scalar(min), Scalar(max)]);

    /// <summary>Splits axis <paramref name="axis"/> into equal halves.</summary>
    public (string, string) Halves(string x, int axis, long half)
    {
        var node = NewNode("Split", [x, Longs(half, half)], 2, Int("axis", axis));
        return (node.Output[0], node.Output[1]);
    }

    /// <summary>A k×k convolution, stride 1, "same" padding (torch's padding = k/2).</summary>
    public string Conv(string x, string weight, string bias, long kernel)
    {
        var pad = kernel / 2;
        return Node("Conv", [x, weight, bias], Ints("kernel_shape", kernel, kernel), Ints("pads", pad, pad, pad, pad), Ints("strides", 1, 1));
    }

    /// <summary>Nearest-neighbour ×2 upsampling of [N, C, H, W], as torch's interpolate(mode: nearest): source pixel floor(i/2).</summary>
    public string Upsample2(string x) => Node("Resize", [x, "", Floats(1, 1, 2, 2)],
        Str("mode", "nearest"), Str("coordinate_transformation_mode", "asymmetric"), Str("nearest_mode", "floor"));

    /// <summary>torch's GroupNorm over [N, C, H, W]: each of <paramref name="groups"/> channel groups normalised over its
    /// channels and pixels (biased variance), then the per-channel affine map. Opset 17 has no GroupNormalization, so:
    /// reshape to [N, G, C/G·H·W], InstanceNormalization (unit scale, zero bias), reshape back.</summary>
    public string GroupNorm(string x, long groups, long channels, string weight, string bias, float epsilon)
    {
        var grouped = Reshape(x, Longs(0, groups, -1));
        var ones = Floats(Enumerable.Repeat(1f, (int)groups).ToArray());
        var zeros = Floats(new float[groups]);
        var normed = Node("InstanceNormalization", [grouped, ones, zeros], Float("epsilon", epsilon));
        var back = Reshape(normed, Node("Shape", [x]));
        var perChannel = Longs(channels, 1, 1);
        return Add(Mul(back, Reshape(weight, perChannel)), Reshape(bias, perChannel));
    }

    public ModelProto Model(string producer, string version)
    {
        var model = new ModelProto { IrVersion = IrVersion, ProducerName = producer, ProducerVersion = version, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        return model;
    }

    /// <summary>A rank-0 float constant (Clip takes its bounds so).</summary>
    private string Scalar(float value) => Constant(TensorProto.Types.DataType.Float, null, t => t.FloatData.Add(value));

    /// <summary>An initializer of <paramref name="type"/>: a vector of <paramref name="length"/> values, or a scalar (null).</summary>
    private string Constant(TensorProto.Types.DataType type, long? length, Action<TensorProto> fill)
    {
        var t = new TensorProto { Name = Fresh("const"), DataType = (int)type };
        if (length is { } n) t.Dims.Add(n);
        fill(t);
        graph.Initializer.Add(t);
        return t.Name;
    }

    private string Node(string op, string[] inputs, params AttributeProto[] attributes) => NewNode(op, inputs, 1, attributes).Output[0];

    private NodeProto NewNode(string op, string[] inputs, int outputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = Fresh(op) };
        node.Input.AddRange(inputs);
        for (var i = 0; i < outputs; i++) node.Output.Add(Fresh(op.ToLowerInvariant()));
        node.Attribute.AddRange(attributes);
        graph.Node.Add(node);
        return node;
    }

    private string Fresh(string stem) => $"{stem}_{names++}";

    private static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };
    private static AttributeProto Float(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };
    private static AttributeProto Str(string name, string value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    private static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    /// <summary>A tensor value: its element type and dims, each a size (long or int) or a symbolic name (string).</summary>
    private static ValueInfoProto Value(string name, TensorProto.Types.DataType type, object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
            shape.Dim.Add(d is string symbol ? new TensorShapeProto.Types.Dimension { DimParam = symbol }
                : new TensorShapeProto.Types.Dimension { DimValue = Convert.ToInt64(d) });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } } };
    }
}

namespace Drift.Train.Distributed;

/// <summary>The collective operations data-parallel training needs, over whatever joins the processes (MPI).</summary>
internal interface ICollectives : IDisposable
{
    int Rank { get; }
    int Size { get; }

    /// <summary>The name of the machine this process runs on (MPI_Get_processor_name).</summary>
    string MachineName { get; }

    /// <summary>Every process's values, concatenated in rank order; all processes give the same length.</summary>
    float[] AllGather(float[] mine);

    /// <inheritdoc cref="AllGather(float[])"/>
    byte[] AllGather(byte[] mine);

    /// <summary>Rank 0's bytes, in every process (what the others give is not read; any length).</summary>
    byte[] Broadcast(byte[] mine);

    /// <summary>The element-wise sum over processes, into <paramref name="values"/>.</summary>
    void Sum(float[] values);

    /// <summary>The element-wise maximum over processes, into <paramref name="values"/>.</summary>
    void Max(float[] values);

    /// <summary>Ends every process with <paramref name="code"/>: one process failed, and the others must not wait for it.</summary>
    void Abort(int code);
}

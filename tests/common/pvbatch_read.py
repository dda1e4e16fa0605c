"""Run by ParaView's pvbatch (tests/common/mod.rs, `paraview_reads`):
open an XDMF sidecar with each of ParaView's XDMF readers, save every time
step's field (an image in the XY plane, or a volume) and the grid's
dimensions as numpy arrays, and render the last step off-screen.

argv: FILE.xmf OUT.npz OUT.png
"""
import sys

import numpy as np
from paraview import servermanager
from paraview.simple import (ColorBy, CreateView, Show, SaveScreenshot, XDMFReader,
                             Xdmf3ReaderS, Xdmf3ReaderT)
from vtk.util.numpy_support import vtk_to_numpy

xmf, npz, png = sys.argv[1:4]
READERS = {
    "XDMFReader": lambda: XDMFReader(FileNames=[xmf]),
    "Xdmf3ReaderS": lambda: Xdmf3ReaderS(FileName=[xmf]),
    "Xdmf3ReaderT": lambda: Xdmf3ReaderT(FileName=[xmf]),
}
out = {}
for name, make in READERS.items():
    reader = make()
    reader.UpdatePipelineInformation()
    times = list(reader.TimestepValues)
    out[name + "/times"] = np.array(times, dtype=np.float64)
    for k, t in enumerate(times):
        reader.UpdatePipeline(t)
        data = servermanager.Fetch(reader)
        if data.IsA("vtkMultiBlockDataSet"):
            assert data.GetNumberOfBlocks() == 1, (name, t, data.GetNumberOfBlocks())
            data = data.GetBlock(0)
        nx, ny, nz = data.GetDimensions()
        # z-y-x, as the HDF5 datasets: [1, ny, nx] for a 2D field in the
        # XY plane, [nz, ny, nx] for a volume (checked against the file).
        out[f"{name}/dims"] = np.array([nz, ny, nx])
        out[f"{name}/spacing"] = np.array(data.GetSpacing())
        out[f"{name}/origin"] = np.array(data.GetOrigin())
        array = data.GetPointData().GetArray("temperature")
        assert array is not None, (name, t, "no point array 'temperature'")
        # copied: the numpy view dies with the fetched data object
        shape = (ny, nx) if nz == 1 else (nz, ny, nx)
        out[f"{name}/{k}"] = vtk_to_numpy(array).reshape(shape).copy()
np.savez(npz, **out)

reader = XDMFReader(FileNames=[xmf])
reader.UpdatePipelineInformation()
view = CreateView("RenderView")
view.ViewSize = [400, 300]
view.OrientationAxesVisibility = 0
view.ViewTime = reader.TimestepValues[-1]
shown = Show(reader, view)
# A volume shows as its outline by default: its faces, coloured, instead.
shown.SetRepresentationType("Surface")
ColorBy(shown, ("POINTS", "temperature"))
shown.RescaleTransferFunctionToDataRange(True)
view.ResetCamera()
SaveScreenshot(png, view, ImageResolution=[400, 300])

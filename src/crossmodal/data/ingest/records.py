"""What a layout adapter reports for each scan it finds, before validation."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ScanRecord:
    """One scan as listed by a layout adapter (paths absolute, nothing read yet).

    Attributes:
        scan_id: file-name-safe scan id (case folder or file stem, or the manifest's).
        subject_id: subject id (scans of one subject stay in one fold).
        images: modality -> ``(path, channel)``; channel ``-1`` for a 3-D file, else the
            index in a 4-D file. Holds exactly the dataset's configured modalities, in order.
        label: label image path.
        mask: mask image path (generic layout with a ``mask`` column), else ``None``.
        source: where the scan was listed (manifest line or folder), for messages.
    """

    scan_id: str
    subject_id: str
    images: dict[str, tuple[str, int]]
    label: str
    mask: str | None = None
    source: str = field(default="", compare=False)

    def files(self) -> list[str]:
        """Every distinct file of the scan (images, label, mask), in that order."""
        out: list[str] = []
        for path in [p for p, _ in self.images.values()] + [self.label] + ([self.mask] if self.mask else []):
            if path not in out:
                out.append(path)
        return out

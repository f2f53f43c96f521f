"""Tissue parameters and sequence protocols of the synthetic datasets, with their sources (3 T).

Every number below is either taken from the cited publication or marked as an approximation
with the physical reason for it. The tables are never tuned on Table I; the one calibration
allowed, on the difficulty table, chose between physically justified variants and is recorded
with every variant tried in docs/embedded-data.md.

Sources (full references):

* [Wansapura 1999] Wansapura JP, Holland SK, Dunn RS, Ball WS. NMR relaxation times in the human
  brain at 3.0 tesla. J Magn Reson Imaging 1999;9:531-538 (in vivo, frontal grey and white
  matter).
* [Gasparovic 2006] Gasparovic C, et al. Use of tissue water as a concentration reference for
  proton spectroscopic imaging. Magn Reson Med 2006;55:1219-1226 (MR-visible water: GM 0.78,
  WM 0.65, CSF 0.97, after Ernst, Kreis & Ross, J Magn Reson B 1993;102:1-8).
* [Rooney 2007] Rooney WD, et al. Magnetic field and tissue dependencies of human brain
  longitudinal 1H2O relaxation in vivo. Magn Reson Med 2007;57:308-318 (CSF T1 ~4.3 s,
  independent of field strength).
* [Piechnik 2009] Piechnik SK, Evans J, Bary LH, Wise RG, Jezzard P. Functional changes in CSF
  volume estimated using measurement of water T2 relaxation. Magn Reson Med 2009;61:579-586
  (CSF T2 at 3 T).
* [Sharma 2006] Sharma P, Socolow J, Patel S, Pettigrew RI, Oshinski JN. Effect of Gd-DTPA-BMA on
  blood and myocardial T1 at 1.5T and 3T in humans. J Magn Reson Imaging 2006;23:323-330,
  doi:10.1002/jmri.20504 (pre-contrast blood T1 at 3 T 1.66 s).
* [de Blank 2019] de Blank P, Badve C, et al. Magnetic resonance fingerprinting to characterize
  childhood and young adult brain tumors. Pediatr Neurosurg 2019;54:310-318 (MRF T1/T2 of solid
  tumour, high and low grade, peritumoral and contralateral white matter). MRF T2 values are
  systematically shorter than spin-echo values, so we use the *ratios* to the same study's
  contralateral white matter and apply them to [Wansapura 1999]'s white matter.
* [Szomolanyi 2019] Szomolanyi P, Rohrer M, Frenzel T, et al. Comparison of the relaxivities of
  macrocyclic gadolinium-based contrast agents in human plasma at 1.5, 3, and 7 T, and blood at
  3 T. Invest Radiol 2019;54:559-564 (gadobutrol r1 at 3 T: 4.97 in plasma, 3.47 in blood).
* [Gold 2004] Gold GE, Han E, Stainsby J, Wright G, Brittain J, Beaulieu C. Musculoskeletal MRI
  at 3.0 T: relaxation times and image contrast. AJR Am J Roentgenol 2004;183:343-351 (in vivo
  knee, 3 T: cartilage, synovial fluid, muscle, subcutaneous and marrow fat).
* [Du 2012] Du J, et al. Bicomponent analysis of the ultrashort-T2 tissues (meniscus, ligament,
  tendon, cortical bone) with UTE at 3 T. Magn Reson Med 2012;67:645-649 (short- and long-T2*
  fractions: human meniscus 49 % at 2.1 ms and 51 % at 18.8 ms; ACL 81 % at 1.5 ms and 19 % at
  14.8 ms; cortical bone 0.3 ms and 2.9 ms).
* [Woodard 1986] Woodard HQ, White DR. The composition of body tissues. Br J Radiol
  1986;59:1209-1218 (water mass fractions: cartilage 75 %, skeletal muscle 74 %, cortical bone
  12 %, yellow marrow 15 %).
* [Peterfy 2008] Peterfy CG, Schneider E, Nevitt M. The osteoarthritis initiative: report on the
  design rationale for the magnetic resonance imaging protocol for the knee. Osteoarthritis
  Cartilage 2008;16:1433-1441 (the OAI knee protocol. SAG 3D DESS WE: TR 16.3 ms, TE 4.7 ms,
  flip 25 deg, 0.7 mm partitions, 0.365 x 0.456 mm in-plane; SAG IW 2D TSE FS: TR 3200 ms,
  TE 30 ms, 3 mm slices, 0.357 x 0.511 mm; COR T1 3D FLASH WE: TR 20 ms, TE 7.57 ms, flip
  12 deg, 1.5 mm partitions).
* [Desai 2021] Desai AD, Caliva F, Iriondo C, et al. The International Workshop on
  Osteoarthritis Imaging Knee MRI Segmentation Challenge: a multi-institute evaluation and
  analysis framework on a standardized dataset. Radiol Artif Intell 2021;3:e200078 (the
  iMorphics-segmented OAI DESS scans of 88 subjects at baseline and 12 months, 384 x 384 x 160
  voxels of 0.36 x 0.36 x 0.7 mm, femoral, tibial and patellar cartilage and menisci).
* [Gyngell 1988] Gyngell ML. The application of steady-state free precession in rapid 2DFT NMR
  imaging: FAST and CE-FAST sequences. Magn Reson Imaging 1988;6:415-419 (the steady-state
  FISP and PSIF signals of the DESS).
* [Whittall 1997] Whittall KP, MacKay AL, Graeb DA, et al. In vivo measurement of T2 distributions
  and water contents in normal human brain. Magn Reson Med 1997;37:34-43.
* [Dardzinski 1997] Dardzinski BJ, Mosher TJ, et al. Spatial variation of T2 in human articular
  cartilage. Radiology 1997;205:546-550 (3 T: 32 ms in the deep radial zone to 67 ms near the
  surface).
* [Menze 2015] Menze BH, et al. The multimodal brain tumor image segmentation benchmark (BRATS).
  IEEE Trans Med Imaging 2015;34:1993-2024 (T1+c a 3-D acquisition; T2 and FLAIR 2-D
  acquisitions with 2-6 mm slices, FLAIR axial, coronal or sagittal depending on the site).

How the numbers were checked: the values of [Wansapura 1999], [Gasparovic 2006], [Piechnik 2009],
[Rooney 2007], [Gold 2004] (cartilage, muscle, fat), [Du 2012], [Whittall 1997] and
[Woodard 1986] were compared
with independent tabulations of the same numbers; those of [Sharma 2006], [de Blank 2019],
[Szomolanyi 2019], [Dardzinski 1997] and [Peterfy 2008] with the papers' abstracts or a
reproduction of their tables. The synovial-fluid values of [Gold 2004], the page numbers of [Sharma 2006] and
[de Blank 2019], and [Menze 2015]'s description of the acquisitions were not re-read. The OAI
protocol values and the iMorphics subset ([Peterfy 2008], [Desai 2021]) are given from our
knowledge of these publicly documented protocols, without a copy of the papers at hand (no
network access when they were written); [Gyngell 1988]'s closed forms are checked against a
Bloch simulation in tests/data/synthesize/test_mr_physics.py.
"""

from __future__ import annotations

from crossmodal.data.synthesize.mr_physics import ContrastAgent, FatPool, Protocol, Sequence, Tissue, null_inversion_time

# --- contrast agent and its distribution (brain T1+c) ---------------------------------------

GADOBUTROL = ContrastAgent(
    "gadobutrol",
    r1=4.97,
    # r2 is not from a source: r2/r1 = 1.4 is assumed. At the T1-weighted echo time (3 ms) it
    # changes the post-contrast signal by less than 1 %.
    r2=4.97 * 1.4,
    r1_blood=3.47,
    source="[Szomolanyi 2019]: r1 in human plasma and in blood at 3 T",
)

# Approximation from the dose: 0.1 mmol/kg (standard dose) spread over the extracellular fluid
# (~0.2 L/kg) gives ~0.5 mmol/L at equilibrium, more in the first minutes after injection; we take
# 0.8 mmol/L in plasma at the time of the T1+c scan.
PLASMA_GD_MM = 0.8
# Approximation: whole blood holds the agent in its plasma only (haematocrit ~0.42).
BLOOD_GD_MM = PLASMA_GD_MM * (1 - 0.42)
# Approximation: where the blood-brain barrier is broken (enhancing tumour, and the choroid
# plexus, which has fenestrated capillaries), the agent fills the extravascular-extracellular
# space, taken as 30 % of the tissue volume (DCE-MRI of glioblastoma reports 20-50 %).
LEAKY_TISSUE_GD_MM = 0.3 * PLASMA_GD_MM
# Approximation: necrosis takes the agent up only slowly by diffusion from the rim.
NECROSIS_GD_MM = 0.05

# --- brain tissues --------------------------------------------------------------------------

_WM_T1, _WM_T2 = 832.0, 79.2  # [Wansapura 1999]


def _tumour_ratio(t1_ratio: float, t2_ratio: float) -> tuple[float, float]:
    return _WM_T1 * t1_ratio, _WM_T2 * t2_ratio


_ENH_T1, _ENH_T2 = _tumour_ratio(1863 / 938, 90 / 38)  # [de Blank 2019] high-grade solid tumour / CWM
_NET_T1, _NET_T2 = _tumour_ratio(1355 / 938, 56 / 38)  # [de Blank 2019] low-grade solid tumour / CWM
_EDEMA_T1, _EDEMA_T2 = _tumour_ratio(1261 / 933, 65 / 38)  # [de Blank 2019] peritumoral WM / CWM

BRAIN_TISSUES = {
    "csf": Tissue("csf", pd=0.97, t1_ms=4300.0, t2_ms=503.0,
                  source="PD [Gasparovic 2006]; T1 [Rooney 2007]; T2 [Piechnik 2009]"),
    "gm": Tissue("gm", pd=0.78, t1_ms=1331.0, t2_ms=110.0,
                 source="PD [Gasparovic 2006]; T1, T2 [Wansapura 1999]"),
    "wm": Tissue("wm", pd=0.65, t1_ms=_WM_T1, t2_ms=_WM_T2,
                 source="PD [Gasparovic 2006]; T1, T2 [Wansapura 1999]"),
    # Cortical veins and sinus remnants at the brain surface (BraTS skull stripping leaves some):
    # visible on T1+c only. Flow void on spin-echo sequences (a physical assumption for flowing
    # blood). PD 0.87 and T2 150 ms are approximations (T2 enters only through the 3 ms gradient
    # echo, < 2 % effect).
    "vessel": Tissue("vessel", pd=0.87, t1_ms=1660.0, t2_ms=150.0, gd_mM=BLOOD_GD_MM, flow_void=True,
                     source="T1 [Sharma 2006]; PD, T2 approximations; Gd: dose approximation"),
    # Choroid plexus in the ventricles: enhances on T1+c (no blood-brain barrier). Pre-contrast
    # values approximated by grey matter's; PD approximation.
    "choroid": Tissue("choroid", pd=0.85, t1_ms=1331.0, t2_ms=110.0, gd_mM=LEAKY_TISSUE_GD_MM,
                      source="approximation (GM relaxation); Gd: dose approximation"),
    # Necrosis: proteinaceous fluid; approximation between edema and CSF (not from a source).
    "necrosis": Tissue("necrosis", pd=0.90, t1_ms=2500.0, t2_ms=250.0, gd_mM=NECROSIS_GD_MM,
                       source="approximation (fluid-like, between edema and CSF)"),
    "enhancing": Tissue("enhancing", pd=0.80, t1_ms=_ENH_T1, t2_ms=_ENH_T2, gd_mM=LEAKY_TISSUE_GD_MM,
                        source="T1, T2 [de Blank 2019] high-grade ratios x [Wansapura 1999] WM; "
                        "PD approximation (cellular tumour ~ grey matter water content)"),
    "non_enhancing": Tissue("non_enhancing", pd=0.80, t1_ms=_NET_T1, t2_ms=_NET_T2,
                            source="T1, T2 [de Blank 2019] low-grade ratios x [Wansapura 1999] WM; "
                            "PD approximation"),
    "edema": Tissue("edema", pd=0.76, t1_ms=_EDEMA_T1, t2_ms=_EDEMA_T2,
                    source="T1, T2 [de Blank 2019] peritumoral-WM ratios x [Wansapura 1999] WM; "
                    "PD approximation (vasogenic edema adds water to white matter)"),
}

# --- brain sequences (BraTS-like multi-site protocol) -----------------------------------------

# Scanner's nominal CSF T1 used to set the FLAIR inversion time.
FLAIR_TR = 9000.0
BRAIN_PROTOCOL = Protocol(
    sequences={
        # Design choice, not from a source: a representative 3-D T1-weighted spoiled gradient echo
        # at 3 T, flip angle well above white matter's Ernst angle (9 deg) for T1 weighting.
        "t1": Sequence("t1", "spgr", tr_ms=10.0, te_ms=3.0, flip_deg=20.0,
                       source="representative 3-D spoiled gradient echo (design choice)"),
        "t1c": Sequence("t1c", "spgr", tr_ms=10.0, te_ms=3.0, flip_deg=20.0, contrast=True,
                        source="the T1 sequence after gadobutrol (0.1 mmol/kg); 3-D [Menze 2015]"),
        # Representative clinical 2-D axial T2 TSE; slice thickness drawn per subject (site)
        # within [Menze 2015]'s 2-6 mm.
        "t2": Sequence("t2", "spin_echo", tr_ms=5000.0, te_ms=100.0, slice_mm=4.0, slice_axis=2,
                       source="representative 2-D T2 TSE; 2-D with 2-6 mm slices [Menze 2015]"),
        # 2-D FLAIR; TI nulls CSF of T1 4300 ms [Rooney 2007] at TR 9000 ms; slice orientation and
        # thickness drawn per subject (site) [Menze 2015].
        "flair": Sequence("flair", "inversion_recovery", tr_ms=FLAIR_TR, te_ms=120.0,
                          ti_ms=round(null_inversion_time(4300.0, FLAIR_TR)), slice_mm=5.0, slice_axis=2,
                          source="representative 2-D FLAIR, CSF-nulling TI; [Menze 2015]"),
    },
    agent=GADOBUTROL,
)

# --- knee tissues -----------------------------------------------------------------------------

FAT = FatPool(t1_ms=371.0, t2_ms=133.0, source="[Gold 2004] subcutaneous fat at 3 T")
_MUSCLE_T1, _MUSCLE_T2 = 1420.0, 31.7  # [Gold 2004]

KNEE_TISSUES = {
    # Fat fraction of healthy muscle: approximation (a few percent).
    "muscle": Tissue("muscle", pd=0.74, t1_ms=_MUSCLE_T1, t2_ms=_MUSCLE_T2, fat_fraction=0.03,
                     source="T1, T2 [Gold 2004]; PD = water mass fraction [Woodard 1986]; "
                     "fat fraction approximation"),
    # Subcutaneous fat and Hoffa's fat pad: 90 % fat protons (approximation: adipose tissue is
    # mostly lipid); its small water pool is given muscle's relaxation times (approximation).
    "fat": Tissue("fat", pd=0.90, t1_ms=_MUSCLE_T1, t2_ms=_MUSCLE_T2, fat_fraction=0.90,
                  source="fat pool [Gold 2004]; PD, fat fraction, water pool approximations"),
    "fluid": Tissue("fluid", pd=0.95, t1_ms=3620.0, t2_ms=767.0,
                    source="T1, T2 [Gold 2004] synovial fluid; PD approximation (near water)"),
    # Cortical bone: its water has T2* < 3 ms [Du 2012], invisible at the echo times used here.
    "cortex": Tissue("cortex", pd=0.12, t1_ms=300.0, t2_ms=0.5,
                     source="PD [Woodard 1986]; T2* [Du 2012]; T1 approximation (irrelevant)"),
    # Adult epiphyseal (yellow) marrow: 15 % water by mass [Woodard 1986] -> fat fraction 0.85
    # (approximation: mass fraction taken as proton fraction); water pool as muscle (approx.).
    "marrow": Tissue("marrow", pd=0.90, t1_ms=_MUSCLE_T1, t2_ms=_MUSCLE_T2, fat_fraction=0.85,
                     source="fat pool [Gold 2004]; fat fraction [Woodard 1986]; PD approximation"),
    "femoral_cartilage": Tissue("femoral_cartilage", pd=0.75, t1_ms=1240.0, t2_ms=36.9,
                                source="T1, T2 [Gold 2004]; PD [Woodard 1986]"),
    "tibial_cartilage": Tissue("tibial_cartilage", pd=0.75, t1_ms=1240.0, t2_ms=36.9,
                               source="T1, T2 [Gold 2004]; PD [Woodard 1986]"),
    # Patellar cartilage: the femoral values of [Gold 2004] (approximation: one set of values
    # for the three cartilage plates).
    "patellar_cartilage": Tissue("patellar_cartilage", pd=0.75, t1_ms=1240.0, t2_ms=36.9,
                                 source="T1, T2 [Gold 2004] (femoral); PD [Woodard 1986]"),
    # Meniscus: the 49 % of its water at T2* 2.1 ms is invisible at TE 7-30 ms; the rest relaxes
    # with 18.8 ms [Du 2012]. Water content 0.72 and T1 1000 ms are approximations.
    "meniscus": Tissue("meniscus", pd=0.72 * 0.51, t1_ms=1000.0, t2_ms=18.8,
                       source="visible fraction and T2 [Du 2012]; water content, T1 approximations"),
    # Cruciate ligaments: 19 % of the water at 14.8 ms, the rest invisible [Du 2012]; water
    # content 0.65 and T1 700 ms are approximations.
    "ligament": Tissue("ligament", pd=0.65 * 0.19, t1_ms=700.0, t2_ms=14.8,
                       source="visible fraction and T2 [Du 2012]; water content, T1 approximations"),
}

# --- knee sequences (OAI protocol) --------------------------------------------------------------

# Which OAI acquisitions are the paper's N and FS pair (docs/embedded-data.md, "Which OAI scans").
# The paper (Sec. IV-A) labels each patch by "the annotation of the center voxel in the normal
# scan", uses the iMorphics segmentations of 88 subjects at baseline and 12 months, and resamples
# both scans to "a common voxel spacing of 0.36 x 0.36 x 0.7 mm"; "the normal scans also have a
# somewhat better resolution". The iMorphics cartilage and meniscus segmentations were drawn on
# the OAI sagittal 3-D DESS with water excitation (384 x 384 x 160 voxels of 0.365 x 0.365 x
# 0.7 mm [Peterfy 2008]; the same 88 subjects x 2 sessions later formed the IWOAI 2019
# segmentation challenge [Desai 2021]), so N is the DESS: the annotated scan, whose grid is the
# common grid, at 0.7 mm against FS's 3 mm slices. FS is the OAI sequence named fat-suppressed in
# the same (sagittal) orientation, the intermediate-weighted 2-D TSE with fat saturation. Both
# therefore suppress fat (the DESS by water excitation): the pair disagrees on the relative
# intensities of fluid, cartilage and muscle, not on fat. (The previous model took the coronal
# T1-weighted 3-D FLASH without its water excitation as N, which inverts fat, marrow and fluid
# between the scans; docs/embedded-data.md, "Calibration on the difficulty table".)
#
# 'normal': SAG 3D DESS WE, TR 16.3 ms, TE 4.7 ms, flip 25 deg, 0.7 mm partitions, 0.365 x 0.456 mm
# in-plane [Peterfy 2008]; the image is the sum of its two echoes (mr_physics.dual_echo_steady_state;
# how the scanner combines them is an approximation). 'fatsup': SAG IW 2D TSE FS, TR 3200 ms,
# TE 30 ms, 3 mm slices, 0.357 x 0.511 mm in-plane [Peterfy 2008]. Array axes: 0 anterior-
# posterior, 1 inferior-superior, 2 medial-lateral (both sequences are sagittal: partitions and
# slices are stacked along axis 2). The in-plane resolution of both and the DESS's 0.7 mm
# partitions are finer than the demo grid (0.5 x 0.5 x 1 mm), so only the TSE's 3 mm slices are
# modelled. Fat-suppression efficiency 0.95 where it works is an approximation for both; only
# the spectral saturation of the TSE fails where B0 is inhomogeneous (knee.fat_sat_failure).
KNEE_PROTOCOL = Protocol(
    sequences={
        "normal": Sequence("normal", "dess", tr_ms=16.3, te_ms=4.7, flip_deg=25.0, fat_sat=True,
                           fat_sat_efficiency=0.95, fat_suppression="water_excitation",
                           source="OAI SAG 3D DESS WE [Peterfy 2008]"),
        "fatsup": Sequence("fatsup", "spin_echo", tr_ms=3200.0, te_ms=30.0, fat_sat=True,
                           fat_sat_efficiency=0.95, fat_suppression="saturation", slice_mm=3.0,
                           slice_axis=2, source="OAI SAG IW 2D TSE FS [Peterfy 2008]"),
    },
    fat=FAT,
)

# --- texture: variation of the tissue parameters within a tissue ------------------------------

# Approximation: within one tissue class, water content and relaxation times vary from place to
# place (between structures, cortical layers, cartilage zones, microstructure). [Whittall 1997]
# report, across white-matter structures at 1.5 T, water content 0.698-0.717 and main-peak T2
# 70-83 ms; across grey-matter structures water content 0.79-0.87; cartilage T2 rises from ~32
# to ~67 ms from the deep to the superficial zone [Dardzinski 1997]. We take independent smooth
# variations of PD, T1 and T2 with these relative SDs (logs); each sequence turns them into its
# own texture through the signal equations (mr_physics.texture_amplitude).
MICROSTRUCTURE_SD = (0.03, 0.08, 0.08)

# --- variation between subjects and scanners ----------------------------------------------------

# Approximation: between-subject and between-site spread of in vivo relaxation times and water
# content is a few percent (the studies above report SDs of 1-10 % of the mean); each subject's
# tissue T1, T2 and PD are scaled by exp(N(0, 0.05^2)), independently per tissue and parameter.
TISSUE_PARAMETER_SD = 0.05
# Approximation: sites differ in TR / TE by ~10 % and flip angle by a few degrees.
SEQUENCE_TIMING_SD = 0.10
FLIP_SD_DEG = 2.0

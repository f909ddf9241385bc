"""The demo collection: real strains, a real engineering lineage and real plasmids.

* E. coli K-12 MG1655 (CGSC 7740, ATCC 700926, DSM 18039) and a succinate
  engineering lineage derived from it: ΔldhA → ΔadhE → ΔackA-pta → adaptive
  evolution → transformation with MoClo plasmids, plus a rifampicin-resistant
  sibling (rpoB H526Y).
* Production chassis of other genera with their collection numbers, and
  Mycoplasma mycoides subsp. mycoides SC PG1 with its 1.2 Mb genome.
* Every GenBank plasmid of the SBOL test suite (mostly the MoClo Golden Gate
  toolkit: pICH*, pAGM*, pICSL*) from ``shared/data``.
* The Anderson constitutive promoter family (iGEM parts J23100-J23119) with the
  relative strengths measured by J. C. Anderson (iGEM Registry, "Promoters/Catalog/
  Anderson"), and the RBS BBa_B0034; and the parts annotated on MoClo level-0 plasmids.
* Freezer boxes with samples, a viability test, and public, safe and patent deposits.
* The E. coli core metabolic model (e_coli_core, shipped as ``bank/demo/e_coli_core.json``),
  linked to MG1655 (CF-00001) as its genome-scale model.
* A planned strain of the Mycoplasma (CF-00105-D1) saved from a manual design: one gene
  deleted, one knocked down by CRISPRi and GFP inserted; its editing plan is made on
  demand from its page (planning is not part of loading the demo).
* A MoClo level-1 acceptor (GGAG...CGCT, BsaI) for the Golden Gate page, made in silico from
  pICH41421's site-free backbone and a short dropout (the suite has no level-1 acceptor).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from cellfoundry.bank.models import Modification, PartRecord, StrainRecord
from cellfoundry.bank.services import Bank
from cellfoundry.core.errors import NotFoundError
from cellfoundry.core.progress import NullProgress, Progress
from cellfoundry.core.sequence import SequenceRecord

ECOLI = "Escherichia coli K-12 MG1655"
#: The demo metabolic model: e_coli_core as COBRA JSON (see ``bank/demo/README.md``).
DEMO_MODEL = Path(__file__).with_name("demo") / "e_coli_core.json"
#: The strain the demo model belongs to.
DEMO_MODEL_STRAIN = "CF-00001"
#: The demo strain with a genome in the bank, and the planned strain designed from it.
DEMO_GENOME_STRAIN = "CF-00105"
DEMO_PLANNED_STRAIN = "CF-00105-D1"
#: The in-silico MoClo level-1 acceptor of the demo (see :func:`level1_acceptor`).
DEMO_ACCEPTOR = "pL1-acceptor-demo"
# GFP (Aequorea victoria, UniProt P42212 with F64L/S65T): the usual heterologous test protein
_GFP = (
    "MSKGEELFTGVVPILVELDGDVNGHKFSVSGEGEGDATYGKLTLKFICTTGKLPVPWPTLVTTFSYGVQCFSRYPDHMKQHDFFKSAM"
    "PEGYVQERTIFFKDDGNYKTRAEVKFEGDTLVNRIELKGIDFKEDGNILGHKLEYNYNSHNVYIMADKQKNGIKVNFKIRHNIEDGS"
    "VQLADHYQQNTPIGDGPVLLPDNHYLSTQSALSKDPNEKRDHMVLLEFVTAAGITHGMDELYK"
)
#: The demo's manual design on the Mycoplasma (format ``cellfoundry.strain-design/1``).
DEMO_DESIGN: dict[str, object] = {
    "format": "cellfoundry.strain-design/1",
    "chassis": "Mycoplasma mycoides SC PG1",
    "product": "GFP",
    "substrate": "glucose",
    "method": "manual",
    "label": "ΔGa0076475_116 Ga0076475_1110(i) +avGFP",
    "modifications": [
        {"kind": "delete", "gene": "Ga0076475_116", "reactions": []},
        {"kind": "knockdown", "gene": "Ga0076475_1110", "reactions": []},
        {"kind": "insert", "gene": "avGFP", "organism": "Aequorea victoria", "protein": _GFP,
         "reactions": []},
    ],
    "knockouts": [],
    "added_reactions": [],
    "evaluation": {},
    "notes": ["demo design: a reporter strain, to show the editing plan"],
}  # fmt: skip
_K12 = {
    "organism_type": "bacterium",
    "risk_group": 1,
    "ncbi_taxid": 511145,
    "growth_medium": "LB (Lennox)",
    "growth_temperature_c": 37.0,
    "atmosphere": "aerobic",
    "supply_forms": ("freeze-dried", "frozen"),
    "nagoya": "outside scope",
}

#: Anderson promoters: sequence and strength relative to J23100 (iGEM Registry).
ANDERSON_PROMOTERS: dict[str, tuple[str, float | None]] = {
    "BBa_J23119": ("TTGACAGCTAGCTCAGTCCTAGGTATAATGCTAGC", None),
    "BBa_J23100": ("TTGACGGCTAGCTCAGTCCTAGGTACAGTGCTAGC", 1.00),
    "BBa_J23101": ("TTTACAGCTAGCTCAGTCCTAGGTATTATGCTAGC", 0.70),
    "BBa_J23102": ("TTGACAGCTAGCTCAGTCCTAGGTACTGTGCTAGC", 0.86),
    "BBa_J23104": ("TTGACAGCTAGCTCAGTCCTAGGTATTGTGCTAGC", 0.72),
    "BBa_J23105": ("TTTACGGCTAGCTCAGTCCTAGGTACTATGCTAGC", 0.24),
    "BBa_J23106": ("TTTACGGCTAGCTCAGTCCTAGGTATAGTGCTAGC", 0.47),
    "BBa_J23107": ("TTTACGGCTAGCTCAGCCCTAGGTATTATGCTAGC", 0.36),
    "BBa_J23108": ("CTGACAGCTAGCTCAGTCCTAGGTATAATGCTAGC", 0.51),
    "BBa_J23110": ("TTTACGGCTAGCTCAGTCCTAGGTACAATGCTAGC", 0.33),
    "BBa_J23111": ("TTGACGGCTAGCTCAGTCCTAGGTATAGTGCTAGC", 0.58),
    "BBa_J23114": ("TTTATGGCTAGCTCAGTCCTAGGTACAATGCTAGC", 0.10),
    "BBa_J23115": ("TTTATAGCTAGCTCAGCCCTTGGTACAATGCTAGC", 0.15),
    "BBa_J23116": ("TTGACAGCTAGCTCAGTCCTAGGGACTATGCTAGC", 0.16),
    "BBa_J23117": ("TTGACAGCTAGCTCAGTCCTAGGGATTGTGCTAGC", 0.06),
    "BBa_J23118": ("TTGACGGCTAGCTCAGTCCTAGGTATTGTGCTAGC", 0.56),
}

_LEVEL0_ROLES = {"promoter": "promoter", "cds": "cds", "terminator": "terminator", "5'utr": "5utr"}


def demo_strains() -> list[StrainRecord]:
    """Return the demo strains, parents before children."""
    mg1655 = StrainRecord(
        accession="CF-00001",
        taxon_name=ECOLI,
        other_accessions=("ATCC 700926", "DSM 18039", "CGSC 7740"),
        isolation_source="human faeces (convalescent diphtheria patient), 1922",
        country="US",
        locality="Palo Alto, California",
        latitude=37.44,
        longitude=-122.14,
        genotype="F- lambda- ilvG- rfb-50 rph-1",
        history="CGSC 7740 <- B. J. Bachmann <- J. Lederberg <- K-12 (Stanford, 1922)",
        remarks="Reference strain of the E. coli K-12 genome sequence (Blattner et al. 1997).",
        **_K12,  # type: ignore[arg-type]
    )

    def derived(
        acc: str, parent: str, name: str, mod: Modification, **extra: object
    ) -> StrainRecord:
        return StrainRecord(
            accession=acc,
            taxon_name=f"{ECOLI} {name}",
            parent_accession=parent,
            modifications=(mod,),
            history=f"constructed at the cellfoundry demo foundry from {parent}",
            **{**_K12, "nagoya": "no known restrictions", **extra},  # type: ignore[arg-type]
        )

    lineage = [
        mg1655,
        derived(
            "CF-00002",
            "CF-00001",
            "ΔldhA",
            Modification("deletion", "ldhA (b1380)", "lambda-Red, FRT scar"),
        ),
        derived(
            "CF-00003",
            "CF-00002",
            "ΔldhA ΔadhE",
            Modification("deletion", "adhE (b1241)", "lambda-Red, FRT scar"),
        ),
        derived(
            "CF-00004",
            "CF-00003",
            "ΔldhA ΔadhE ΔackA-pta",
            Modification("deletion", "ackA-pta (b2296-b2297)", "lambda-Red, FRT scar"),
        ),
        derived(
            "CF-00005",
            "CF-00004",
            "ΔldhA ΔadhE ΔackA-pta ALE60",
            Modification("adaptive evolution", "growth on M9 glucose", "60 days serial transfer"),
            growth_medium="M9 glucose",
        ),
        derived(
            "CF-00006",
            "CF-00005",
            "ΔldhA ΔadhE ΔackA-pta ALE60 [pICH41388, pICH41402]",
            Modification("plasmid transformation", "pICH41388; pICH41402", "MoClo level-0 vectors"),
            plasmid_names=("pICH41388", "pICH41402"),
            status="restricted",
        ),
        derived(
            "CF-00007",
            "CF-00002",
            "ΔldhA rpoB(H526Y)",
            Modification("point mutation", "rpoB H526Y", "spontaneous rifampicin-resistant mutant"),
        ),
    ]
    others = [
        StrainRecord(
            "CF-00101",
            "Saccharomyces cerevisiae S288C",
            organism_type="yeast",
            ncbi_taxid=559292,
            other_accessions=("ATCC 204508",),
            growth_medium="YPD",
            growth_temperature_c=30.0,
            atmosphere="aerobic",
            supply_forms=("frozen",),
            nagoya="outside scope",
            genotype="MATalpha SUC2 gal2 mal2 mel flo1 flo8-1 hap1 ho bio1 bio6",
        ),
        StrainRecord(
            "CF-00102",
            "Bacillus subtilis subsp. subtilis 168",
            ncbi_taxid=224308,
            other_accessions=("ATCC 23857",),
            growth_medium="LB",
            growth_temperature_c=37.0,
            atmosphere="aerobic",
            supply_forms=("freeze-dried",),
            genotype="trpC2",
            nagoya="outside scope",
        ),
        StrainRecord(
            "CF-00103",
            "Corynebacterium glutamicum ATCC 13032",
            ncbi_taxid=196627,
            type_strain=True,
            other_accessions=("ATCC 13032", "DSM 20300"),
            isolation_source="sewage",
            country="JP",
            growth_medium="BHI",
            growth_temperature_c=30.0,
            atmosphere="aerobic",
            supply_forms=("freeze-dried",),
            nagoya="outside scope",
        ),
        StrainRecord(
            "CF-00104",
            "Pseudomonas putida KT2440",
            ncbi_taxid=160488,
            other_accessions=("ATCC 47054", "DSM 6125"),
            isolation_source="soil (derivative of mt-2)",
            growth_medium="LB",
            growth_temperature_c=30.0,
            atmosphere="aerobic",
            supply_forms=("freeze-dried", "frozen"),
            nagoya="outside scope",
        ),
        StrainRecord(
            "CF-00105",
            "Mycoplasma mycoides subsp. mycoides SC PG1",
            ncbi_taxid=272632,
            risk_group=2,
            type_strain=True,
            other_accessions=("NCTC 10114",),
            isolation_source="bovine lung (contagious bovine pleuropneumonia)",
            growth_medium="SP4",
            growth_temperature_c=37.0,
            atmosphere="CO2-enriched",
            supply_forms=("frozen",),
            restrictions="animal pathogen (CBPP): import and export permits",
            nagoya="outside scope",
        ),
    ]
    return lineage + others


def load_demo(
    bank: Bank, shared_data: Path, *, actor: str = "demo", progress: Progress | None = None
) -> str:
    """Fill ``bank`` with the demo collection; do nothing if it is already there.

    Returns a one-line summary of what the bank holds.
    """
    from cellfoundry.bank import formats

    progress = progress or NullProgress()
    try:
        bank.get_strain("CF-00001")
    except NotFoundError:
        pass
    else:
        _accounts(bank, actor)  # a demo database from before accounts existed gets them
        _models(bank, actor)  # and one from before models existed gets the demo model
        _acceptor(bank, actor)  # and the level-1 acceptor and planned strain of the DNA pages
        _designs(bank, actor)
        return f"demo collection already loaded: {_describe(bank)}"
    genbank_dir = shared_data / "sbol-test-suite" / "GenBank"
    files = sorted(p for p in genbank_dir.glob("*.gb*") if p.is_file())
    steps = len(files) + 7
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        progress(done, steps)

    plasmids: list[SequenceRecord] = []
    for path in files:
        for rec in formats.read(path, "genbank"):
            # SnapGene exports name every record "Exported File"; the file name is the plasmid's
            if rec.name.lower().startswith("exported"):
                rec = dataclasses.replace(rec, name=path.stem)
            plasmids.append(rec)
        step()
    seen: set[str] = set()
    unique = []
    for rec in plasmids:
        if rec.name not in seen:
            seen.add(rec.name)
            unique.append(rec)
    bank.import_sequences(unique, kind="plasmid", actor=actor, source=str(genbank_dir))
    step()
    bank.import_strains(demo_strains(), actor=actor, source="demo collection")
    step()
    genome = shared_data / "sbol-test-suite" / "GenBank" / "genomes" / "20027.gbk"
    if genome.exists():
        bank.import_sequences(
            formats.read(genome, "genbank"),
            kind="genome",
            actor=actor,
            source=str(genome),
            strain="CF-00105",
        )
    step()
    for name, (seq, strength) in ANDERSON_PROMOTERS.items():
        bank.add_part(
            PartRecord(
                name,
                "promoter",
                seq,
                description="Anderson constitutive promoter family",
                characterisation={} if strength is None else {"relative_strength": strength},
            ),
            actor=actor,
        )
    bank.add_part(
        PartRecord("BBa_B0034", "rbs", "AAAGAGGAGAAA", description="Elowitz RBS, strong"),
        actor=actor,
    )
    _level0_parts(bank, unique, actor)
    _acceptor(bank, actor)
    step()
    _stock(bank, actor)
    step()
    _accounts(bank, actor)
    _deposits(bank, actor)
    _sharing(bank)
    step()
    _models(bank, actor)
    _designs(bank, actor)
    step()
    return f"demo collection loaded: {_describe(bank)}"


def _describe(bank: Bank) -> str:
    c = bank.counts()
    return (
        f"{c.strains} strains, {c.plasmids} plasmids, {c.parts} parts, {c.genomes} genome, "
        f"{c.samples} samples, {c.deposits} deposits"
    )


def _models(bank: Bank, actor: str) -> None:
    """Store e_coli_core and link it to MG1655, unless the bank has it already."""
    if any(m.filename == DEMO_MODEL.name for m in bank.list_models()):
        return
    try:
        bank.get_strain(DEMO_MODEL_STRAIN)
        strain: str | None = DEMO_MODEL_STRAIN
    except NotFoundError:
        strain = None
    bank.add_model(
        DEMO_MODEL,
        name="E. coli core metabolism (e_coli_core)",
        strain=strain,
        actor=actor,
    )


def _designs(bank: Bank, actor: str) -> None:
    """Save the Mycoplasma design as a planned strain, unless it is there (or no genome)."""
    try:
        bank.get_strain(DEMO_PLANNED_STRAIN)
        return
    except NotFoundError:
        pass
    try:
        bank.get_strain(DEMO_GENOME_STRAIN)
    except NotFoundError:
        return
    bank.save_design(
        DEMO_DESIGN,
        parent_accession=DEMO_GENOME_STRAIN,
        accession=DEMO_PLANNED_STRAIN,
        actor=actor,
        visibility="public",
    )


def level1_acceptor(donor: SequenceRecord) -> SequenceRecord | None:
    """Make a MoClo level-1 acceptor (GGAG...CGCT, BsaI) from a level-0 plasmid's backbone.

    The backbone between the donor's two BsaI sites (its marker and origin) is kept and a
    short dropout with two inward BsaI sites leaves GGAG and CGCT, like pICH47732's
    position-1 acceptor. ``None`` if the donor does not have exactly that layout.
    """
    seq = donor.sequence.upper()
    fwd, rev = seq.find("GGTCTC"), seq.find("GAGACC")
    if fwd < 0 or rev < 0 or seq.count("GGTCTC") != 1 or seq.count("GAGACC") != 1:
        return None
    body = seq[rev + 6 :] + seq[:fwd]
    dropout = "TGAGACC" + "AAACCCGGGTTTAAACCCGGGAATTC" + "GGTCTCA"
    return SequenceRecord(
        DEMO_ACCEPTOR,
        body + "GGAG" + dropout + "CGCT",
        "circular",
        description=f"MoClo level-1 acceptor (GGAG-CGCT, BsaI), in silico from the backbone "
        f"of {donor.name} (demo)",
    )


def _acceptor(bank: Bank, actor: str) -> None:
    """Store the demo's level-1 acceptor, made from pICH41421, unless it is there."""
    try:
        bank.get_sequence("plasmid", DEMO_ACCEPTOR)
        return
    except NotFoundError:
        pass
    try:
        donor = bank.get_sequence("plasmid", "pICH41421")
    except NotFoundError:
        return
    acceptor = level1_acceptor(donor)
    if acceptor is not None:
        bank.import_sequences([acceptor], kind="plasmid", actor=actor, source="demo")


def _level0_parts(bank: Bank, plasmids: list[SequenceRecord], actor: str) -> None:
    """Store the promoters, CDSs, terminators and UTRs annotated on level-0 MoClo plasmids."""
    from cellfoundry.core.sequence import reverse_complement

    taken: set[str] = set()
    for rec in plasmids:
        if not rec.name.startswith(("pICH41", "pICH44", "pICH45", "pICSL")):
            continue
        for feature in rec.features:
            role = _LEVEL0_ROLES.get(feature.type.lower())
            if role is None or len(feature.spans) != 1 or feature.end - feature.start < 12:
                continue
            name = f"{rec.name}:{feature.label}"[:120]
            if name in taken:
                continue
            taken.add(name)
            seq = rec.sequence[feature.start : feature.end]
            if feature.strand == -1:
                seq = reverse_complement(seq)
            bank.add_part(
                PartRecord(name, role, seq, description=f"{feature.label} from {rec.name}"),
                actor=actor,
            )


def _stock(bank: Bank, actor: str) -> None:
    main = bank.add_box("Beijing", "F-01", "R1", "BOX-001", rows=9, columns=9)
    ampoules = bank.add_box(
        "Beijing", "A-01", "R1", "AMP-001", rows=9, columns=9, temperature_c=4.0
    )
    strains = [s.accession for s in demo_strains()]
    for i, acc in enumerate(strains):
        row, col = divmod(i, 9)
        bank.add_sample(
            f"{acc}-G1",
            box=main,
            position=f"{chr(65 + row)}{col + 1}",
            preservation="glycerol -80 °C",
            vials=5,
            strain=acc,
            prepared_on=dt.date(2026, 3, 2),
            actor=actor,
        )
    bank.add_sample(
        "CF-00001-L1",
        box=ampoules,
        position="A1",
        preservation="lyophilised",
        vials=20,
        strain="CF-00001",
        prepared_on=dt.date(2025, 11, 4),
        actor=actor,
    )
    bank.record_viability(
        "CF-00001-L1",
        viable=True,
        tested_on=dt.date(2026, 5, 11),
        cfu_per_ml=2.4e9,
        note="revived in LB, 16 h",
        actor=actor,
    )
    bank.add_sample(
        "CF-00006-L1",
        box=ampoules,
        position="A2",
        preservation="lyophilised",
        vials=12,
        strain="CF-00006",
        prepared_on=dt.date(2026, 6, 1),
        actor=actor,
    )
    bank.record_viability(
        "CF-00006-L1",
        viable=True,
        tested_on=dt.date(2026, 6, 3),
        cfu_per_ml=1.1e9,
        note="one ampoule revived in LB, 30 °C, 24 h; colony count on LB agar",
        actor=actor,
    )
    bank.add_sample(
        "pICH41388-D1",
        box=main,
        position="I9",
        preservation="glycerol -80 °C",
        vials=3,
        plasmid="pICH41388",
        prepared_on=dt.date(2026, 3, 2),
        actor=actor,
    )


#: The password of every demo account (the demo database is for trying the platform out).
DEMO_PASSWORD = "cellfoundry-demo"
#: The demo accounts: user name, role, organisation.
DEMO_ACCOUNTS = (
    ("curator", "curator", "cellfoundry demo collection"),
    ("zhang.depositor", "depositor", "Demo Biotech Co., Ltd."),
    ("li.lab", "member", "Tsinghua University"),
    ("guest", "guest", None),
)


def _accounts(bank: Bank, actor: str) -> None:
    for username, role, organisation in DEMO_ACCOUNTS:
        try:
            bank.get_user(username)
            continue
        except NotFoundError:
            pass
        bank.create_user(username, DEMO_PASSWORD, role=role, organisation=organisation, actor=actor)


def _sharing(bank: Bank) -> None:
    """File a request that waits for the curator (the patent deposit stays unreleased)."""
    member = bank.as_viewer(bank.viewer_for("li.lab"))
    member.request_material(
        "li.lab", strain="CF-00001", vials=2, purpose="succinate titre comparison"
    )


def _deposits(bank: Bank, actor: str) -> None:
    bank.deposit(
        "CF-00001",
        deposit_type="public",
        depositor="cellfoundry demo collection",
        deposited_on=dt.date(2025, 11, 4),
        actor=actor,
    )
    bank.deposit(
        "CF-00005",
        deposit_type="safe",
        depositor="Demo Biofoundry, Beijing",
        deposited_on=dt.date(2026, 4, 20),
        actor=actor,
    )
    bank.deposit(
        "CF-00006",
        deposit_type="patent",
        depositor="Demo Biotech Co., Ltd., Beijing",
        deposited_on=dt.date(2026, 6, 1),
        depositor_statement="Deposited under the Budapest Treaty for the purposes of patent "
        "procedure; the depositor undertakes not to withdraw it during the term of storage.",
        viability_statement="Viable on 2026-06-03 (colony count 1.1e9 CFU/mL).",
        patent_reference="CN 2026-10012345.6",
        owner="zhang.depositor",
        actor=actor,
    )

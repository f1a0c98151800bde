"""one places table with ancestor ids; scopes and invites as foreign keys; conversations

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 17:10:00

The six per-level place tables become one `places` table whose rows carry the ids of all their
ancestors, and households carry them too. Role grants and invite codes, which held a kind and
an id that nothing checked, now hold foreign keys. Place ids change (one id space for all
levels), so every reference is mapped; a role grant or invite whose place no longer existed is
dropped, since nothing could use it. Also: the language a client reports, a household's
representative in votes, conversation state, linked group chats, failed code attempts, and
processed-update keys that fit WeChat's message ids and events.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

LEVELS = ("district", "street", "community", "compound", "building", "unit")
OLD_TABLES = {"district": "districts", "street": "streets", "community": "communities", "compound": "compounds", "building": "buildings", "unit": "units"}
OLD_PARENT = {"street": "district_id", "community": "street_id", "compound": "community_id", "building": "compound_id", "unit": "building_id"}
ANCESTORS = ("district", "street", "community", "compound", "building")
kind_enum = sa.Enum(*LEVELS, "household", name="placekind", native_enum=False, length=20)


def _ancestor_columns() -> list[sa.Column]:
    return [sa.Column(f"{level}_id", sa.Integer(), nullable=True) for level in ANCESTORS]


def _ancestor_foreign_keys(batch_op, table: str) -> None:  # type: ignore[no-untyped-def]
    for level in ANCESTORS:
        column = f"{level}_id"
        batch_op.create_foreign_key(f"fk_{table}_{column}_places", "places", [column], ["id"], ondelete="CASCADE")
        batch_op.create_index(f"ix_{table}_{column}", [column], unique=False)


def upgrade() -> None:
    bind = op.get_bind()
    op.create_table(
        "places",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", kind_enum, nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        *_ancestor_columns(),
        sa.ForeignKeyConstraint(["parent_id"], ["places.id"], name="fk_places_parent_id_places", ondelete="CASCADE"),
        *[sa.ForeignKeyConstraint([f"{level}_id"], ["places.id"], name=f"fk_places_{level}_id_places", ondelete="CASCADE") for level in ANCESTORS],
        sa.PrimaryKeyConstraint("id", name="pk_places"),
        sa.UniqueConstraint("parent_id", "name", name="uq_places_parent_id_name"),
    )
    with op.batch_alter_table("places") as batch_op:
        batch_op.create_index("ix_places_parent_id", ["parent_id"], unique=False)
        for level in ANCESTORS:
            batch_op.create_index(f"ix_places_{level}_id", [f"{level}_id"], unique=False)
        batch_op.create_index(
            "uq_places_district_name", ["name"], unique=True, sqlite_where=sa.text("parent_id IS NULL"), postgresql_where=sa.text("parent_id IS NULL")
        )

    # Copy the levels top down, keeping old id → new id and each new place's ancestors.
    places = sa.table("places", sa.column("id"), sa.column("kind"), sa.column("parent_id"), sa.column("name"), *[sa.column(f"{a}_id") for a in ANCESTORS])
    new_id: dict[tuple[str, int], int] = {}
    lineage: dict[int, dict[str, int]] = {}  # new place id → {level: ancestor id}, itself included
    next_id = 1
    for level in LEVELS:
        parent_column = OLD_PARENT.get(level)
        columns = "id, name" + (f", {parent_column}" if parent_column else "")
        rows = bind.execute(sa.text(f"SELECT {columns} FROM {OLD_TABLES[level]} ORDER BY id")).all()
        batch = []
        for row in rows:
            parent = new_id[(LEVELS[LEVELS.index(level) - 1], row[2])] if parent_column else None
            ancestors = dict(lineage[parent]) if parent is not None else {}
            values = {"id": next_id, "kind": level, "parent_id": parent, "name": row[1], **{f"{a}_id": ancestors.get(a) for a in ANCESTORS}}
            batch.append(values)
            new_id[(level, row[0])] = next_id
            lineage[next_id] = {**ancestors, level: next_id}
            next_id += 1
        if batch:
            op.bulk_insert(places, batch)
    if bind.dialect.name == "postgresql" and next_id > 1:
        bind.execute(sa.text("SELECT setval(pg_get_serial_sequence('places', 'id'), :last)"), {"last": next_id - 1})

    # Households: the unit id is mapped (through negative ids, so that no intermediate state
    # collides with the unique (unit_id, room)), and the ancestors are filled in.
    with op.batch_alter_table("households") as batch_op:
        batch_op.drop_constraint("fk_households_unit_id_units", type_="foreignkey")
        for column in _ancestor_columns():
            batch_op.add_column(column)
    bind.execute(sa.text("UPDATE households SET unit_id = -unit_id"))
    for (level, old), new in new_id.items():
        if level != "unit":
            continue
        values = {f"{a}_id": lineage[new].get(a) for a in ANCESTORS}
        assignments = ", ".join(f"{a}_id = :{a}_id" for a in ANCESTORS)
        bind.execute(sa.text(f"UPDATE households SET unit_id = :new, {assignments} WHERE unit_id = :old"), {"new": new, "old": -old, **values})
    bind.execute(sa.text("DELETE FROM households WHERE unit_id < 0"))  # a unit that no longer existed
    with op.batch_alter_table("households") as batch_op:
        batch_op.create_foreign_key("fk_households_unit_id_places", "places", ["unit_id"], ["id"], ondelete="CASCADE")
        _ancestor_foreign_keys(batch_op, "households")

    # Role grants: (scope_kind, scope_id) → place_id.
    with op.batch_alter_table("role_grants") as batch_op:
        batch_op.add_column(sa.Column("place_id", sa.Integer(), nullable=True))
    for grant_id, scope_kind, scope_id in bind.execute(sa.text("SELECT id, scope_kind, scope_id FROM role_grants")).all():
        place = new_id.get((scope_kind, scope_id))
        if place is None:
            bind.execute(sa.text("DELETE FROM role_grants WHERE id = :id"), {"id": grant_id})
        else:
            bind.execute(sa.text("UPDATE role_grants SET place_id = :place WHERE id = :id"), {"place": place, "id": grant_id})
    with op.batch_alter_table("role_grants") as batch_op:
        batch_op.drop_constraint("uq_role_grants_person_id_role_scope_kind_scope_id", type_="unique")
        batch_op.drop_column("scope_kind")
        batch_op.drop_column("scope_id")
        batch_op.alter_column("place_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key("fk_role_grants_place_id_places", "places", ["place_id"], ["id"], ondelete="CASCADE")
        batch_op.create_index("ix_role_grants_place_id", ["place_id"], unique=False)
        batch_op.create_unique_constraint("uq_role_grants_person_id_role_place_id", ["person_id", "role", "place_id"])

    # Invite codes: a building's code → place_id, a household's → household_id.
    with op.batch_alter_table("invite_codes") as batch_op:
        batch_op.add_column(sa.Column("place_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("household_id", sa.Integer(), nullable=True))
    for invite_id, kind, target in bind.execute(sa.text("SELECT id, kind, target_id FROM invite_codes")).all():
        if kind == "building" and ("building", target) in new_id:
            bind.execute(sa.text("UPDATE invite_codes SET place_id = :p WHERE id = :id"), {"p": new_id[("building", target)], "id": invite_id})
        elif kind == "household" and bind.execute(sa.text("SELECT 1 FROM households WHERE id = :h"), {"h": target}).first():
            bind.execute(sa.text("UPDATE invite_codes SET household_id = :h WHERE id = :id"), {"h": target, "id": invite_id})
        else:
            bind.execute(sa.text("DELETE FROM invite_codes WHERE id = :id"), {"id": invite_id})
    with op.batch_alter_table("invite_codes") as batch_op:
        batch_op.drop_index("ix_invite_codes_target_id")
        batch_op.drop_column("target_id")
        batch_op.create_foreign_key("fk_invite_codes_place_id_places", "places", ["place_id"], ["id"], ondelete="CASCADE")
        batch_op.create_foreign_key("fk_invite_codes_household_id_households", "households", ["household_id"], ["id"], ondelete="CASCADE")
        batch_op.create_index("ix_invite_codes_place_id", ["place_id"], unique=False)
        batch_op.create_index("ix_invite_codes_household_id", ["household_id"], unique=False)
        batch_op.create_check_constraint(
            "one_target",
            "(kind = 'building' AND place_id IS NOT NULL AND household_id IS NULL)"
            " OR (kind = 'household' AND household_id IS NOT NULL AND place_id IS NULL)",
        )

    for level in reversed(LEVELS):
        op.drop_table(OLD_TABLES[level])

    # Processed updates: a string key (WeChat's events have no numeric id).
    with op.batch_alter_table("processed_updates") as batch_op:
        batch_op.add_column(sa.Column("update_key", sa.String(length=100), nullable=True))
    bind.execute(sa.text("UPDATE processed_updates SET update_key = CAST(update_id AS VARCHAR(100))"))
    with op.batch_alter_table("processed_updates") as batch_op:
        batch_op.drop_constraint("pk_processed_updates", type_="primary")
        batch_op.drop_column("update_id")
        batch_op.alter_column("update_key", existing_type=sa.String(length=100), nullable=False)
        batch_op.create_primary_key("pk_processed_updates", ["channel", "update_key"])

    with op.batch_alter_table("people") as batch_op:
        batch_op.add_column(sa.Column("client_locale", sa.String(length=10), nullable=True))
    with op.batch_alter_table("memberships") as batch_op:
        batch_op.add_column(sa.Column("represents", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index(
            "uq_memberships_household_representative", ["household_id"], unique=True,
            sqlite_where=sa.text("represents"), postgresql_where=sa.text("represents"),
        )

    op.create_table(
        "conversations",
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("chat_id", sa.String(length=100), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=50), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name="fk_conversations_person_id_people", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("channel", "chat_id", "person_id", name="pk_conversations"),
    )
    op.create_table(
        "group_chats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("chat_id", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=False),
        sa.Column("linked_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["place_id"], ["places.id"], name="fk_group_chats_place_id_places", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["linked_by"], ["people.id"], name="fk_group_chats_linked_by_people", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_group_chats"),
        sa.UniqueConstraint("channel", "chat_id", name="uq_group_chats_channel_chat_id"),
    )
    with op.batch_alter_table("group_chats") as batch_op:
        batch_op.create_index("ix_group_chats_place_id", ["place_id"], unique=False)
    op.create_table(
        "failed_code_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name="fk_failed_code_attempts_person_id_people", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_failed_code_attempts"),
    )
    with op.batch_alter_table("failed_code_attempts") as batch_op:
        batch_op.create_index("ix_failed_code_attempts_person_at", ["person_id", "attempted_at"], unique=False)


def downgrade() -> None:
    bind = op.get_bind()
    op.drop_table("failed_code_attempts")
    op.drop_table("group_chats")
    op.drop_table("conversations")
    with op.batch_alter_table("memberships") as batch_op:
        batch_op.drop_index("uq_memberships_household_representative", sqlite_where=sa.text("represents"), postgresql_where=sa.text("represents"))
        batch_op.drop_column("represents")
    with op.batch_alter_table("people") as batch_op:
        batch_op.drop_column("client_locale")

    bind.execute(sa.text("DELETE FROM processed_updates WHERE update_key NOT GLOB '[0-9]*'" if bind.dialect.name == "sqlite" else "DELETE FROM processed_updates WHERE update_key !~ '^[0-9]+$'"))
    with op.batch_alter_table("processed_updates") as batch_op:
        batch_op.add_column(sa.Column("update_id", sa.BigInteger(), nullable=True))
    bind.execute(sa.text("UPDATE processed_updates SET update_id = CAST(update_key AS BIGINT)"))
    with op.batch_alter_table("processed_updates") as batch_op:
        batch_op.drop_constraint("pk_processed_updates", type_="primary")
        batch_op.drop_column("update_key")
        batch_op.alter_column("update_id", existing_type=sa.BigInteger(), nullable=False)
        batch_op.create_primary_key("pk_processed_updates", ["channel", "update_id"])

    # The per-level tables come back with the places' ids (unique within each level).
    for level in LEVELS:
        parent = OLD_PARENT.get(level)
        op.create_table(
            OLD_TABLES[level],
            sa.Column("id", sa.Integer(), nullable=False),
            *([sa.Column(parent, sa.Integer(), nullable=False)] if parent else []),
            sa.Column("name", sa.String(length=100), nullable=False),
            *([sa.ForeignKeyConstraint([parent], [f"{OLD_TABLES[LEVELS[LEVELS.index(level) - 1]]}.id"], name=f"fk_{OLD_TABLES[level]}_{parent}_{OLD_TABLES[LEVELS[LEVELS.index(level) - 1]]}", ondelete="CASCADE")] if parent else []),
            sa.PrimaryKeyConstraint("id", name=f"pk_{OLD_TABLES[level]}"),
            sa.UniqueConstraint(*([parent] if parent else []), "name", name=f"uq_{OLD_TABLES[level]}_{parent + '_' if parent else ''}name"),
        )
        if parent:
            with op.batch_alter_table(OLD_TABLES[level]) as batch_op:
                batch_op.create_index(f"ix_{OLD_TABLES[level]}_{parent}", [parent], unique=False)
        columns = "id, " + (f"{parent}, " if parent else "") + "name"
        select_parent = "parent_id, " if parent else ""
        bind.execute(sa.text(f"INSERT INTO {OLD_TABLES[level]} ({columns}) SELECT id, {select_parent}name FROM places WHERE kind = :kind"), {"kind": level})

    with op.batch_alter_table("invite_codes") as batch_op:
        batch_op.add_column(sa.Column("target_id", sa.Integer(), nullable=True))
    bind.execute(sa.text("UPDATE invite_codes SET target_id = COALESCE(place_id, household_id)"))
    with op.batch_alter_table("invite_codes") as batch_op:
        batch_op.drop_constraint(op.f("ck_invite_codes_one_target"), type_="check")
        batch_op.drop_constraint("fk_invite_codes_place_id_places", type_="foreignkey")
        batch_op.drop_constraint("fk_invite_codes_household_id_households", type_="foreignkey")
        batch_op.drop_index("ix_invite_codes_place_id")
        batch_op.drop_index("ix_invite_codes_household_id")
        batch_op.drop_column("place_id")
        batch_op.drop_column("household_id")
        batch_op.alter_column("target_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_index("ix_invite_codes_target_id", ["target_id"], unique=False)

    with op.batch_alter_table("role_grants") as batch_op:
        batch_op.add_column(sa.Column("scope_kind", sa.Enum("community", "compound", "building", name="scopekind", native_enum=False, length=20), nullable=True))
        batch_op.add_column(sa.Column("scope_id", sa.Integer(), nullable=True))
    bind.execute(sa.text("UPDATE role_grants SET scope_id = place_id, scope_kind = (SELECT kind FROM places WHERE places.id = role_grants.place_id)"))
    with op.batch_alter_table("role_grants") as batch_op:
        batch_op.drop_constraint("uq_role_grants_person_id_role_place_id", type_="unique")
        batch_op.drop_constraint("fk_role_grants_place_id_places", type_="foreignkey")
        batch_op.drop_index("ix_role_grants_place_id")
        batch_op.drop_column("place_id")
        batch_op.alter_column("scope_kind", existing_type=sa.String(length=20), nullable=False)
        batch_op.alter_column("scope_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_unique_constraint("uq_role_grants_person_id_role_scope_kind_scope_id", ["person_id", "role", "scope_kind", "scope_id"])

    with op.batch_alter_table("households") as batch_op:
        batch_op.drop_constraint("fk_households_unit_id_places", type_="foreignkey")
        for level in ANCESTORS:
            batch_op.drop_constraint(f"fk_households_{level}_id_places", type_="foreignkey")
            batch_op.drop_index(f"ix_households_{level}_id")
            batch_op.drop_column(f"{level}_id")
        batch_op.create_foreign_key("fk_households_unit_id_units", "units", ["unit_id"], ["id"], ondelete="CASCADE")
    op.drop_table("places")

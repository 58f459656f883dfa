"""MDT meetings, agendas, discussion outcomes and actions (to come)."""

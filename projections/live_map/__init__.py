"""The live map read model: one row per report and an activity feed to resume from."""

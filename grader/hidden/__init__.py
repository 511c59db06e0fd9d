"""The hidden checks of the course: one pytest module per exercise."""

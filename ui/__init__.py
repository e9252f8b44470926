"""Streamlit helpers shared by the frame and the pages: sign-in, navigation, guards, formatting."""
